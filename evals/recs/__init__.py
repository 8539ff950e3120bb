"""Recommendation quality eval: temporal split, HR@10 / NDCG@10 vs a popularity baseline."""
