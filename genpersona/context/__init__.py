"""Context retrieval: profile, consent, relevant memories and items for one brief."""
