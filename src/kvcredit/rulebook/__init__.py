"""The programme rulebook (issue 13): the schema is pure (``kvcredit.rulebook.domain``); the
Django app stores published rulebooks (``models``) and answers which one is in force on a date
(``services.in_force``, ``services.rules_on``)."""
