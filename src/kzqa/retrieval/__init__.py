"""Finding candidates: the dense index, BM25 with fusion and MMR, what each sees of a passage, echo groups."""
