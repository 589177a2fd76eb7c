"""The model: loaded lazily, the NumPy query encoder, the embedding cache, passage and sentence vectors."""
