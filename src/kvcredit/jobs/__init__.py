"""Long jobs on a real task queue (Django's tasks API through django-tasks and its database
backend): the ``Job`` record users see, its runner (fencing, heartbeat, take-over), the kinds of
job, and the nightly day. See docs/jobs.md."""
