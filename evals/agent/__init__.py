"""Evaluation of the personalization agent on real demo customers."""
