"""kvcredit: knowledge-value credit loans — evaluation, risk compensation fund, management."""

__version__ = "0.1.0"
