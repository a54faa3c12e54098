// Reads the Atom and RSS feeds with two Node feed readers and prints what they parsed as JSON.
// usage: node read_feeds.mjs ATOM_URL RSS_URL JSON_URL   (tests/test_clients.py asserts on the output)
// rss-parser reads Atom and RSS; feed-extractor reads Atom, RSS and JSON Feed.
import { readFileSync } from "node:fs";
import { extract } from "@extractus/feed-extractor";
import Parser from "rss-parser";

const version = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
const [atomUrl, rssUrl, jsonUrl] = process.argv.slice(2);
const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const text = (v) => (v && typeof v === "object" ? v["#text"] ?? v._ ?? "" : v ?? "");

async function rssParser(url) {
  const parser = new Parser({
    timeout: 30000,
    customFields: {
      item: [["dc:creator", "creators", { keepArray: true }], ["author", "authors", { keepArray: true }],
             ["category", "categoryElements", { keepArray: true }], ["link", "linkElements", { keepArray: true }],
             "prism:publicationDate", "dc:identifier", "updated", "published", "summary"],
    },
  });
  const feed = await parser.parseURL(url);
  return {
    title: feed.title, link: feed.link, feedUrl: feed.feedUrl ?? null,
    items: feed.items.map((i) => ({
      id: i.id ?? i.guid ?? null, guid: i.guid ?? null, title: i.title, link: i.link,
      isoDate: i.isoDate ?? null, pubDate: i.pubDate ?? null, author: i.author ?? i.creator ?? null,
      creators: list(i.creators).map(text),
      authors: list(i.authors).map((a) => text(list(a.name)[0])),
      categories: list(i.categories).length  // RSS <category>; rss-parser leaves Atom's out, read them raw
        ? list(i.categories).map((c) => (typeof c === "object" ? c.$?.term ?? text(c) : c))
        : list(i.categoryElements).map((c) => c.$?.term ?? text(c)),
      linkElements: list(i.linkElements).map((l) => (l.$ ? l.$ : { href: text(l) })),
      enclosure: i.enclosure ?? null,
      summary: text(list(i.summary)[0]) || null, contentSnippet: i.contentSnippet ?? null,
      content: i["content:encoded"] ?? i.content ?? null,
      publicationDate: i["prism:publicationDate"] ?? null, identifier: i["dc:identifier"] ?? null,
    })),
  };
}

async function feedExtractor(url) {
  const feed = await extract(url, {
    descriptionMaxLen: 100000,
    getExtraEntryFields: (e) => ({
      // JSON Feed 1.1 `authors` when present (its 1.0 `author` repeats them for older readers)
      authors: Array.isArray(e.authors) ? e.authors.map((a) => a.name)
        : list(e.author).map((a) => text(a.name)).concat(list(e["dc:creator"]).map(text)),
      categories: list(e.category).map((c) => c["@_term"] ?? text(c)).concat(list(e.tags)),
      links: list(e.link).map((l) => (typeof l === "object" ? { rel: l["@_rel"] ?? null, href: l["@_href"] ?? text(l), type: l["@_type"] ?? null } : { rel: null, href: l, type: null })),
      enclosure: e.enclosure ? { url: e.enclosure["@_url"], type: e.enclosure["@_type"] }
        : e.attachments ? { url: e.attachments[0].url, type: e.attachments[0].mime_type } : null,
      content: text(e.content) || text(e["content:encoded"]) || e.content_html || null,
    }),
  });  // its default fetcher: Node's fetch
  return {
    title: feed.title, link: feed.link ?? null,
    entries: feed.entries.map((e) => ({ id: e.id, title: e.title, link: e.link, published: e.published,
      description: e.description, authors: e.authors, categories: e.categories, links: e.links,
      enclosure: e.enclosure, content: e.content })),
  };
}

const out = { versions: { node: process.version, "rss-parser": version("rss-parser"),
                          "@extractus/feed-extractor": version("@extractus/feed-extractor") } };
const feeds = { atom: atomUrl, rss: rssUrl, json: jsonUrl };
for (const [name, read, formats] of [["rss-parser", rssParser, ["atom", "rss"]],
                                      ["feed-extractor", feedExtractor, ["atom", "rss", "json"]]]) {
  out[name] = {};
  for (const fmt of formats) {
    const url = feeds[fmt];
    try {
      out[name][fmt] = await read(url);
    } catch (err) {
      out[name][fmt] = { error: String(err && err.stack || err) };
    }
  }
}
process.stdout.write(JSON.stringify(out));
