"""Delivery: approved copy reaches recipients (pull endpoint, ESP exports) and is logged.

Every choice that reaches a recipient is written to the exposure log with the
probability the policy gave it, so any later policy can be evaluated offline.
"""
