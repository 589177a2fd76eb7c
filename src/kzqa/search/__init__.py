"""Answering: QA (ask, search, diagnose), the documents in scope, which edition, the
vocabulary, a server following its index."""
