"""arxiv-digest: each day's arXiv announcement as an enriched, quality-checked feed."""
__version__ = "0.1.0"
