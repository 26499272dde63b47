"""Documents attached to applications (the contract) and claims (the overdue notice, evidence).

A document is a slot on one object (``Document``: the object, a kind, a title); each upload to
it is a new ``DocumentVersion`` (never edited, never deleted: a correction is the next version,
and every version stays listed and downloadable). The bytes go through Django's storage API
(``STORAGES["documents"]``: a ``FileSystemStorage`` under the data dir by default, an
S3-compatible store by setting), checked for type by their magic bytes (``domain.kinds``) and
for size (``KVCREDIT_DOCUMENT_MAX_BYTES``), with their SHA-256 recorded and audited. Who sees a
document is who sees its object (``lending.selectors.applications``, ``fund.selectors.claims``).
"""
