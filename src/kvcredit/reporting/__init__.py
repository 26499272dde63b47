"""Programme statistics: pure aggregations (``aggregate``) and the scoped reads that feed them.

``aggregate`` imports no Django: it takes plain rows and returns figures, so the lending and
fund issues can extend it with loans, claims and pools and test it without a database.
``programme`` reads through the apps' selectors (so a district sees its own figures only);
``policy_preview`` compares a candidate policy with the current one on registered enterprises.
"""
