"""Ingestion: reads every file under data/raw/ into the raw layer of the working database."""
