"""The ``Job`` record users see: kind, state, progress, reason, times, heartbeat, owner, lock.

Its lifecycle is ``kvcredit.jobs.domain.JOB``; the runner (``kvcredit.jobs.runner``) is the one
writer. The django-tasks row (``task_id``) only carries the job to a worker: what survives a
crash is here (``checkpoint``, ``done``), written in the same transaction as each chunk's work.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from kvcredit.accounts.models import Organisation
from kvcredit.jobs.domain import HOLDING, JOB, JobState


class Job(models.Model):
    State = JobState

    kind = models.CharField(max_length=40)
    state = models.CharField(
        max_length=16,
        choices=[(code, gettext_lazy(label)) for code, label in JOB.choices()],
        default=JobState.QUEUED,
    )
    params = models.JSONField(default=dict)
    # A file the job reads (an uploaded import), kept in the database so any worker can run it.
    payload = models.BinaryField(null=True, editable=False)
    payload_name = models.CharField(max_length=255, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True)
    checkpoint = models.JSONField(default=dict)  # where a resumed run starts again
    result = models.JSONField(default=dict)
    output = models.BinaryField(null=True, editable=False)  # an export's file
    output_name = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)  # why it failed
    owner_org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="jobs", null=True
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs", null=True
    )
    lock_key = models.CharField(max_length=120, null=True, blank=True)
    fence = models.IntegerField(default=1)  # grows at each retry or take-over
    attempts = models.IntegerField(default=0)
    worker_id = models.CharField(max_length=64, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    heartbeat_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # At most one queued or running job per lock key (one re-evaluation of the
            # programme, one end of day): a partial unique index, on SQLite and PostgreSQL.
            models.UniqueConstraint(
                fields=["lock_key"],
                condition=Q(state__in=[s.value for s in HOLDING]) & Q(lock_key__isnull=False),
                name="job_one_holder_per_lock_key",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in JobState]), name="job_state_valid"
            ),
            models.CheckConstraint(condition=Q(done__gte=0), name="job_done_nonneg"),
        ]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat")]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.state}"

    @property
    def kind_label(self) -> str:
        from kvcredit.jobs.runner import kinds

        kind = kinds().get(self.kind)
        return str(gettext_lazy(kind.label)) if kind else self.kind

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == JobState.DONE else 0
        return min(100, int(100 * self.done / self.total))
