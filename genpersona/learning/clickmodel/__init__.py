"""The click model: features, on-disk embedding cache, ridge model, training."""
