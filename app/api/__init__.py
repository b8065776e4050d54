"""JSON API v1 (``/api/v1``) for the tablet client and integrations, with bearer tokens.

- ``models``: ApiToken (only a SHA-256 of each token is stored) and ApiPosting (the body
  fingerprint behind each entry the API created, to refuse an Idempotency-Key reused for a
  different body);
- ``tokens``: create, revoke and authenticate tokens;
- ``spec``: the one declarative description of every operation and schema; the views
  validate against it and ``openapi`` turns it into the OpenAPI 3.1 document;
- ``views``: the API blueprint; ``token_views``: the page where users manage their tokens.
"""
