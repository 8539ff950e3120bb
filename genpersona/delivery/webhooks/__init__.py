"""Outcomes in, as email platforms send them: signed webhooks mapped onto exposures.

One module per platform turns its documented payload into ``VendorEvent``s
(``sendgrid``, ``mandrill``, ``braze``, ``customerio``); ``signatures`` checks
the platform's signature with ``cryptography`` / ``hmac``; ``store`` finds the
exposure each event names (by the ``gp_*`` ids that exports and pulls put in)
and writes one outcome per vendor event id, so a replayed batch is stored once.
"""
