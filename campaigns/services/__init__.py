"""Campaigns' services: every write to campaigns' tables goes through one of these. Points move only through
loyalty's services (under the member's ledger lock), vouchers through rewards', messages through members'
outbox, tags through insight's."""

from .changes import changes_evaluate
from .dates import dates_evaluate
from .evaluation import order_campaigns_apply
from .events import EventInput, events_record
from .simulation import Simulation, campaign_simulate

__all__ = ["EventInput", "Simulation", "campaign_simulate", "changes_evaluate", "dates_evaluate", "events_record",
           "order_campaigns_apply"]
