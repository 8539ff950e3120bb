"""The click model: features, on-disk embedding cache, ridge model, training.

A domain package (below orchestration) because two orchestration siblings use it:
the agent ranks candidates by its predicted CTR, and learning uses it as the prior
of new recipes. Learning imports campaigns and delivery, which import the agent, so
the model could not live inside learning without an import cycle.
"""
