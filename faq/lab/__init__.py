"""Offline tooling of the FAQ matcher: fitting the decision on data generated from the corpus, exporting the
word-frequency table. Imported by the benchmark command and tests only, never at run time."""
