"""Campaigns' services: every write to campaigns' tables goes through one of these. Points move only through
loyalty's services (under the member's ledger lock), vouchers through rewards', messages through members'
outbox, tags through insight's."""

from .challenges import challenges_record_order
from .changes import changes_evaluate
from .dates import dates_evaluate
from .evaluation import order_campaigns_apply
from .events import EventInput, events_record
from .partitions import event_partitions_maintain
from .simulation import Simulation, campaign_simulate

__all__ = ["EventInput", "Simulation", "campaign_simulate", "challenges_record_order", "changes_evaluate",
           "dates_evaluate", "event_partitions_maintain", "events_record",
           "order_campaigns_apply"]
