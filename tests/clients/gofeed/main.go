// gofeed-json: parse a feed from stdin with mmcdole/gofeed (Debian's
// golang-github-mmcdole-gofeed-dev) and print gofeed's universal Feed as JSON,
// so tests/test_clients.py can assert what a Go reader sees per paper.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mmcdole/gofeed"
)

func main() {
	fp := gofeed.NewParser()
	feed, err := fp.Parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(feed)
	os.Stdout.Write(out)
}
