"""Write library.json (CSL-JSON) and library.ris (RIS) from library.bib, as Zotero would export
the same collection: `.venv/bin/python -m tests.ranking.export` (run once; the files are kept).

Independent of `service/library.py` (it uses bibtexparser and rispy directly), so the test
that all three formats load to the same items checks our readers against another writer."""
from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware

HERE = Path(__file__).parent


def main() -> None:
    lib = bibtexparser.parse_file(str(HERE / "library.bib"), append_middleware=[LatexDecodingMiddleware()])
    csl, ris = [], []
    for e in lib.entries:
        f = {k: v.value.replace("{", "").replace("}", "") for k, v in e.fields_dict.items()}
        names = [n.strip() for n in f["author"].split(" and ")]
        family_given = [tuple(p.strip() for p in n.split(",", 1)) for n in names]
        venue = f.get("journal") or f.get("booktitle")
        csl.append({"id": e.key, "type": "article-journal" if e.entry_type == "article" else "paper-conference",
                    "title": f["title"], "container-title": venue,
                    "author": [{"family": fam, "given": giv} for fam, giv in family_given],
                    "issued": {"date-parts": [[int(f["year"])]]}, "abstract": f["abstract"]})
        ris.append({"type_of_reference": "JOUR" if e.entry_type == "article" else "CONF", "title": f["title"],
                    "authors": names, "year": f["year"], "abstract": f["abstract"], "secondary_title": venue})
    (HERE / "library.json").write_text(json.dumps(csl, ensure_ascii=False, indent=2) + "\n", "utf-8")
    (HERE / "library.ris").write_text(rispy.dumps(ris), "utf-8")


if __name__ == "__main__":
    main()
