"""How the OpenAPI schema describes each operation: its tag, summary and description, the error codes it can
answer (from the apps' error enums), and examples of the core contract.

One table keyed by operation id, applied by a postprocessing hook (SPECTACULAR_SETTINGS), so the views keep
only their `@extend_schema` basics. It lives in `config` because it names the codes of every app.

Every error response is the one error shape, `{"error": {"code", "message", "fields", ...extra}}`, with `code`
an enum of the codes that operation can answer under that status, the extra fields of those codes, and an
example per code. Codes common to many operations (authentication, bad input, the Idempotency-Key, the rate
limit) are added from what the operation is: a body, an Idempotency-Key header, a 429 in its responses.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.exceptions import CampaignsErrorCode
from core.errors import ErrorCode
from core.openapi import request_bodies_closed
from insight.exceptions import InsightErrorCode
from loyalty.exceptions import LoyaltyErrorCode
from members.exceptions import MembersErrorCode
from referrals.exceptions import ReferralsErrorCode
from rewards.exceptions import RewardsErrorCode

E, M, L, R, F, IN = ErrorCode, MembersErrorCode, LoyaltyErrorCode, RewardsErrorCode, ReferralsErrorCode, InsightErrorCode
CA = CampaignsErrorCode

CODE_ENUMS: tuple[type[StrEnum], ...] = (ErrorCode, MembersErrorCode, LoyaltyErrorCode, RewardsErrorCode,
                                         ReferralsErrorCode, InsightErrorCode, CampaignsErrorCode)

TAGS = [
    {"name": "members", "description": "Register members, read and update them, issue member tokens."},
    {"name": "earning", "description": "Points on orders, refunds that take them back, balances, statements and "
                                       "manual adjustments."},
    {"name": "redemption", "description": "Spend points on plain points or on catalog rewards; quotes; cancel."},
    {"name": "checkout", "description": "Points as payment at checkout: hold, confirm with the order, or release."},
    {"name": "vouchers", "description": "Validate and use the vouchers that rewards and gifts issue."},
    {"name": "referrals", "description": "Referral codes, attaching them, and what referrals earned."},
    {"name": "memberships", "description": "Tiers, paid plans and a member's subscriptions."},
    {"name": "member self-service", "description": "A member's own data, with a member token (`Bearer`)."},
    {"name": "insight", "description": "Surveys, what we know of each member (stage, value, loyalty type, lifetime "
                                       "value), segments, the program's metrics, and past orders imported."},
    {"name": "campaigns", "description": "Behaviour events that campaigns act on."},
]

# --- Error codes -------------------------------------------------------------------------------------------

_INT = {"type": "integer"}
_DECIMAL = {"type": "string", "format": "decimal", "pattern": r"^-?\d{0,10}(?:\.\d{0,2})?$"}
_ANY = {}

_RULE_EXTRA = {
    "needed": (_ANY, "What the rule asks for (a number, a date, a list of tiers ...).", 500),
    "got": (_ANY, "What the member or the order has.", 120),
    "reasons": ({"type": "array", "items": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "needed": {}, "got": {}}}},
        "Every rule that refused, first one first (the error's code is the first one's).",
        [{"code": "insufficient_points", "message": "The member has 120 points available; 500 are needed.",
          "needed": 500, "got": 120}]),
}


@dataclass(frozen=True)
class CodeDoc:
    status: int
    message: str  # what the message says, in an example
    extra: dict = field(default_factory=dict)  # name -> (schema, description, example)
    fields: dict = field(default_factory=dict)  # an example of `fields`


_SILVER = {"code": "silver", "name": "Silver", "rank": 1, "threshold": "500.00", "earn_multiplier": "1.250",
           "birthday_gift_points": 50, "birthday_reward_code": None, "perks": ["free_shipping"]}
_GOLD = {**_SILVER, "code": "gold", "name": "Gold", "rank": 2, "threshold": "1500.00", "earn_multiplier": "1.500",
         "birthday_gift_points": 100, "perks": ["free_shipping", "lounge"]}
_TIER_OVERVIEW = {
    "tier": _SILVER, "since": "2026-02-01T10:00:00Z", "pinned": None,
    "benefits": {"earn_multiplier": "1.250", "perks": ["free_shipping"], "plan": None},
    "progress": {"basis": "points", "window": "rolling_12_months", "window_start": "2025-12-01", "window_end": None,
                 "qualifying": "980", "next_tier": _GOLD, "needed": "520", "by": None},
    "downgrade": None,
}

CODES: dict[str, CodeDoc] = {
    # Generic (core)
    E.INVALID: CodeDoc(400, "points: Must be positive.", fields={"points": ["Must be positive."]}),
    E.MALFORMED: CodeDoc(400, "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
    E.NOT_AUTHENTICATED: CodeDoc(401, "Authentication credentials were not provided."),
    E.AUTHENTICATION_FAILED: CodeDoc(401, "Invalid API key."),
    E.PERMISSION_DENIED: CodeDoc(403, "This key lacks the scope points:redeem."),
    E.NOT_FOUND: CodeDoc(404, "Not found."),
    E.METHOD_NOT_ALLOWED: CodeDoc(405, 'Method "PUT" not allowed.'),
    E.UNSUPPORTED_MEDIA_TYPE: CodeDoc(415, 'Unsupported media type "text/plain" in request.'),
    E.THROTTLED: CodeDoc(429, "Request was throttled. Expected available in 42 seconds."),
    E.CONFLICT: CodeDoc(409, "Another member has this card number."),
    E.IDEMPOTENCY_KEY_MISSING: CodeDoc(400, "The Idempotency-Key header is required on every write."),
    E.IDEMPOTENCY_KEY_REUSED: CodeDoc(409, "This Idempotency-Key was already used for a different request."),
    E.IDEMPOTENCY_KEY_TOO_LONG: CodeDoc(400, "The Idempotency-Key header is longer than 255 characters.",
                                        extra={"max_length": (_INT, "The longest key accepted.", 255)}),
    E.REQUEST_TOO_LARGE: CodeDoc(413, "The request body is larger than 262144 bytes.",
                                 extra={"limit_bytes": (_INT, "The largest body accepted (API_MAX_BODY_BYTES).", 262144)}),
    E.CURRENCY_NOT_SUPPORTED: CodeDoc(422, "The program runs in EUR, not USD.", fields={"currency": ["Expected EUR."]}),
    E.IDEMPOTENCY_IN_PROGRESS: CodeDoc(409, "A request with this Idempotency-Key is still being processed; retry "
                                            "after a moment."),
    E.SERVER_ERROR: CodeDoc(500, "Something went wrong on our side."),
    E.SERVICE_UNAVAILABLE: CodeDoc(503, "The database is not available right now; retry with the same "
                                        "Idempotency-Key."),
    # members
    M.MEMBER_NOT_FOUND: CodeDoc(404, "No member with external_id 'c-1042'."),
    M.PHONE_INVALID: CodeDoc(422, "Not a valid phone number.", fields={"phone": ["Not a valid phone number."]}),
    M.MEMBER_EXISTS: CodeDoc(409, "A member with external_id 'c-1042' exists."),
    M.MEMBER_INACTIVE: CodeDoc(422, "The member is suspended.", extra={
        "status": ({"type": "string"}, "The member's status (when earning).", "suspended"), **_RULE_EXTRA}),
    M.PLAN_NOT_FOUND: CodeDoc(404, "No active plan 'plus'."),
    M.NO_TRIAL: CodeDoc(422, "This plan has no trial.", fields={"trial": ["No trial for this plan."]}),
    M.TRIAL_USED: CodeDoc(422, "The member already had this plan; the trial is for newcomers."),
    M.PAYMENT_REFERENCE_USED: CodeDoc(409, "The payment 'pay-77' was already recorded; a payment counts once.",
                                      fields={"payment_reference": ["Already used."]}),
    M.SUBSCRIPTION_NOT_FOUND: CodeDoc(404, "No subscription 12 for this member."),
    M.SUBSCRIPTION_EXISTS: CodeDoc(409, "The member already has a live paid membership."),
    M.SUBSCRIPTION_NOT_LIVE: CodeDoc(422, "This membership is ended; start a new one."),
    M.SUBSCRIPTION_NOT_RENEWABLE: CodeDoc(422, "A one-time membership is not renewed; buy it again when it ends."),
    # loyalty
    L.ORDER_NOT_FOUND: CodeDoc(404, "No order 'A-1001' on this channel."),
    L.DUPLICATE_ORDER: CodeDoc(409, "Order 'A-1001' was already recorded."),
    L.INSUFFICIENT_POINTS: CodeDoc(422, "The member has 120 points available; 500 were asked for.", extra={
        "available": (_INT, "Points the member can spend now.", 120),
        "requested": (_INT, "Points asked for.", 500), **_RULE_EXTRA}),
    L.BALANCE_LIMIT_EXCEEDED: CodeDoc(422, "The member would hold more than 1,000,000,000,000,000 points.", extra={
        "limit": (_INT, "The most points a member may hold.", 10**15),
        "balance": (_INT, "The member's points now (available and pending).", 10**15 - 10),
        "requested": (_INT, "Points the write would add.", 100)}),
    L.REFUND_EXCEEDS_ORDER: CodeDoc(422, "Only 20.00 of this order is left to refund; 50.00 was asked.", extra={
        "refundable": (_DECIMAL, "What is left of the order to refund.", "20.00"),
        "requested": (_DECIMAL, "The refund asked for.", "50.00")}),
    L.ADJUSTMENT_LIMIT_EXCEEDED: CodeDoc(422, "Adjustments above 1000 points need a manager.", extra={
        "limit": (_INT, "The most points this actor may adjust at once.", 1000),
        "requested": (_INT, "The adjustment asked for.", 5000)}),
    L.BULK_ADJUSTMENT_EMPTY: CodeDoc(422, "Name the members: a list, a segment, or both."),
    L.BULK_ADJUSTMENT_NOT_FOUND: CodeDoc(404, "No bulk adjustment 12."),
    L.REDEMPTION_NOT_CANCELLABLE: CodeDoc(409, "This redemption is cancelled; it cannot be cancelled."),
    # rewards
    R.REWARD_NOT_FOUND: CodeDoc(404, "No reward 'coffee'."),
    R.REDEMPTION_NOT_FOUND: CodeDoc(404, "No redemption 57."),
    R.REWARD_INACTIVE: CodeDoc(422, "This reward is not available.", extra=_RULE_EXTRA),
    R.REWARD_NOT_YET_VALID: CodeDoc(422, "This reward opens on 2026-12-01.", extra=_RULE_EXTRA),
    R.REWARD_EXPIRED: CodeDoc(422, "This reward closed on 2026-01-31.", extra=_RULE_EXTRA),
    R.TIER_REQUIRED: CodeDoc(422, "This reward is for members of gold.", extra=_RULE_EXTRA),
    R.PLAN_REQUIRED: CodeDoc(422, "This reward is for members of plus.", extra=_RULE_EXTRA),
    R.OUT_OF_STOCK: CodeDoc(422, "Only 0 left.", extra=_RULE_EXTRA),
    R.MEMBER_LIMIT_REACHED: CodeDoc(422, "At most 1 per member.", extra=_RULE_EXTRA),
    R.PERIOD_LIMIT_REACHED: CodeDoc(422, "At most 2 per month.", extra=_RULE_EXTRA),
    R.GLOBAL_LIMIT_REACHED: CodeDoc(422, "This reward has been redeemed as often as it may be.", extra=_RULE_EXTRA),
    R.MIN_BALANCE: CodeDoc(422, "Redeeming needs a balance of at least 100 points.", extra=_RULE_EXTRA),
    R.MIN_ORDER_VALUE: CodeDoc(422, "Points can pay orders of 10.00 or more.", extra=_RULE_EXTRA),
    R.MAX_ORDER_SHARE: CodeDoc(422, "Points may pay at most 50% of an order: 2500 points here.", extra=_RULE_EXTRA),
    R.HOLD_EXISTS: CodeDoc(409, "Order 'A-1001' already has points held or paid."),
    R.NOT_A_HOLD: CodeDoc(409, "This redemption is not a checkout hold."),
    R.HOLD_EXPIRED: CodeDoc(409, "The hold lapsed before it was confirmed; hold the points again."),
    R.HOLD_NOT_ACTIVE: CodeDoc(409, "The hold was released."),
    R.VOUCHER_NOT_FOUND: CodeDoc(404, "No such voucher."),
    R.VOUCHER_ALREADY_REDEEMED: CodeDoc(409, "Used on 2026-03-14 10:21."),
    R.VOUCHER_VOID: CodeDoc(422, "This voucher was voided."),
    R.VOUCHER_EXPIRED: CodeDoc(422, "Expired on 2026-03-31."),
    R.VOUCHER_NOT_ISSUED: CodeDoc(409, "The voucher is redeemed."),
    # referrals
    F.REFERRAL_PROGRAM_INACTIVE: CodeDoc(422, "No referral program is running."),
    F.REFERRAL_CODE_INVALID: CodeDoc(422, "This referral code is not valid.", fields={"referral_code": ["Unknown code."]}),
    F.REFERRAL_CODE_NOT_FOUND: CodeDoc(404, "No such referral code."),
    F.REFERRAL_SELF: CodeDoc(422, "A member cannot use their own referral code.",
                             fields={"referral_code": ["Your own code."]}),
    F.REFERRAL_EXISTS: CodeDoc(409, "This member already has a referral code attached."),
    F.REFERRAL_CHANGED: CodeDoc(409, "The member's referral changed while this request ran; send it again."),
    F.REFERRAL_ATTACH_WINDOW_OVER: CodeDoc(422, "A referral code can only be attached within 14 days of joining."),
    F.REFERRAL_LOOP: CodeDoc(422, "A member cannot be referred by someone they referred.",
                             fields={"referral_code": ["Would make a referral loop."]}),
    F.REFERRAL_NOT_FOUND: CodeDoc(404, "No referral #31."),
    F.REFERRAL_NOT_HELD: CodeDoc(409, "Referral #31 is qualified, not held for review."),
    # insight
    IN.SURVEY_NOT_FOUND: CodeDoc(404, "No open survey 'nps-2026'."),
    # campaigns
    **{code: CodeDoc(422, message, extra={"index": (_INT, "The position of the first bad event in the batch "
                                                         "(nothing of the batch was written).", 3)},
                     fields={"events": {"3": {field: [message.split(": ", 1)[1]]}}})
       for code, field, message in [
           (CA.EVENT_TYPE_UNKNOWN, "type", "events[3].type: No event type 'course_viewd'."),
           (CA.EVENT_ATTRIBUTES_INVALID, "attributes", "events[3].attributes: The attribute 'course_id' is required."),
           (CA.EVENT_MEMBER_UNKNOWN, "member", "events[3].member: No member 'C-1041'."),
           (CA.EVENT_TOO_OLD, "occurred_at", "events[3].occurred_at: Is older than the events kept (from 2025-10-01)."),
       ]},
}

# Codes no API operation answers: staff actions in the admin, and what any URL may get (an unknown path, a
# wrong method, a crash). They are in the schema's list of all codes (components.schemas.ErrorCode).
NOT_FROM_AN_OPERATION = {E.METHOD_NOT_ALLOWED, E.SERVER_ERROR, R.VOUCHER_NOT_ISSUED, F.REFERRAL_NOT_FOUND,
                         F.REFERRAL_NOT_HELD}

_REFUSALS = (M.MEMBER_INACTIVE, L.INSUFFICIENT_POINTS, R.MIN_BALANCE)
_REWARD_REFUSALS = (R.REWARD_INACTIVE, R.REWARD_NOT_YET_VALID, R.REWARD_EXPIRED, R.TIER_REQUIRED, R.PLAN_REQUIRED,
                    R.OUT_OF_STOCK, R.MEMBER_LIMIT_REACHED, R.PERIOD_LIMIT_REACHED, R.GLOBAL_LIMIT_REACHED)
_CHECKOUT_REFUSALS = (R.MIN_ORDER_VALUE, R.MAX_ORDER_SHARE)
_ATTACH = (F.REFERRAL_PROGRAM_INACTIVE, F.REFERRAL_CODE_INVALID, F.REFERRAL_SELF, F.REFERRAL_EXISTS,
           F.REFERRAL_ATTACH_WINDOW_OVER, F.REFERRAL_LOOP)

# --- Examples of the core contract --------------------------------------------------------------------------

_T = "2026-03-14T10:21:07Z"
_MEMBER = {"external_id": "c-1042", "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+442079460958",
           "card_number": None, "birth_date": "1990-12-10", "timezone": "Europe/London", "status": "active",
           "marketing_consent": True, "language": "en", "joined_at": _T}


def _txn(id_, kind, points, balance, reference, reason="", reverses=None):
    return {"id": id_, "kind": kind, "points": points, "balance_after": balance, "pending_after": 0,
            "available_delta": points, "pending_delta": 0, "reference": reference, "reason": reason,
            "reverses": reverses, "multiplier": "1.00", "created_at": _T}


_EARN = _txn(9001, "earn", 12, 132, "order:A-1001")
_REDEEM = _txn(9002, "redeem", -100, 32, "redemption:57")
_REDEMPTION = {"id": 57, "member": "c-1042", "kind": "points", "reward": None, "quantity": 1, "points": 100,
               "points_returned": 0, "order_id": "A-1001", "order_value": None, "discount": None,
               "status": "completed", "hold_expires_at": None, "transaction": _REDEEM, "cancel_transaction": None,
               "vouchers": [], "created_at": _T, "cancelled_at": None}

# --- Operations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    tag: str
    summary: str
    description: str
    errors: tuple = ()  # codes beyond the common ones; a (status, code) pair answers a code with another status
    request: dict | None = None  # example request body
    response: dict | None = None  # example success body


OPERATIONS: dict[str, Op] = {
    # members
    "members_register": Op(
        "members", "Register a member",
        "Creates the member (and their own referral code). With `referral_code`, attaches it in the same write: a "
        "bad code writes nothing. 409 `member_exists` if the external_id is taken. Rate-limited when a code is "
        "given, so codes cannot be enumerated.",
        (M.MEMBER_EXISTS, M.PHONE_INVALID, *_ATTACH),
        request={"external_id": "c-1042", "name": "Ada Lovelace", "email": "ada@example.com",
                 "phone": "+44 20 7946 0958", "birth_date": "1990-12-10", "timezone": "Europe/London",
                 "marketing_consent": True, "referral_code": "7KQ2MZXH"},
        response={**_MEMBER, "referral_code": "H4TR9WQE",
                  "referral": {"id": 31, "referrer": "c-0007", "member": "c-1042", "code": "7KQ2MZXH",
                               "status": "pending", "reasons": [], "order_id": None, "ordinal": 1,
                               "created_at": _T, "qualified_at": None}}),
    "members_list": Op(
        "members", "List members, or one segment's",
        "The members in member-id order, keyset-paginated (`after` = the `next` of the previous page), with their "
        "stage, value tier and loyalty type as of the last nightly run. `segment` (`stage:active`, `value:high`, "
        "`loyalty:advocate`, `tag:vip`) narrows the list to that segment; `count` is how many members the whole "
        "list holds. An unknown segment is a 404.", (E.NOT_FOUND,),
        response={"segment": "stage:active", "count": 1204, "results": [
            {"member": "C-1001", "status": "active", "joined_at": "2026-01-15T09:30:00Z", "stage": "active",
             "value_tier": "high", "loyalty_type": "committed"}], "next": 1001}),
    "members_read": Op("members", "Read a member", "The member's profile and status.", (M.MEMBER_NOT_FOUND,)),
    "members_update": Op(
        "members", "Update a member",
        "Partial update: only the fields sent change (`status` suspends, closes or reactivates the membership). "
        "409 `conflict` when another member has the card number.", (M.MEMBER_NOT_FOUND, E.CONFLICT, M.PHONE_INVALID)),
    "members_token_issue": Op(
        "members", "Issue a member token",
        "A short-lived token the shop's server hands to the member's app, which then calls `/api/v1/me...` with "
        "`Authorization: Bearer <token>`. Not idempotent: a token is never stored to be replayed.",
        (M.MEMBER_NOT_FOUND, M.MEMBER_INACTIVE)),
    "members_tokens_revoke": Op(
        "members", "Revoke a member's tokens",
        "Ends every live token of the member at once (a lost phone, a signed-out app); answers how many. A second "
        "call revokes nothing more. Tokens also end with the API key that issued them.", (M.MEMBER_NOT_FOUND,)),
    # earning
    "orders_earn": Op(
        "earning", "Earn points on an order",
        "Records the order once per channel (409 `duplicate_order` on another key) and credits the points its "
        "rules give, pending for the return window if the program has one. A member's first qualifying order "
        "after a referral also pays the referral (`referral`).",
        (M.MEMBER_NOT_FOUND, M.MEMBER_INACTIVE, E.CURRENCY_NOT_SUPPORTED, L.DUPLICATE_ORDER,
         L.BALANCE_LIMIT_EXCEEDED, F.REFERRAL_CHANGED),
        request={"member": "c-1042", "order_id": "A-1001", "amount": "129.90", "currency": "EUR", "store": "web",
                 "occurred_at": _T, "lines": [{"sku": "SKU-1", "category": "shoes", "amount": "99.90", "quantity": 1},
                                              {"sku": "SKU-2", "category": "", "amount": "30.00", "quantity": 2}]},
        response={"order_id": "A-1001", "member": "c-1042", "amount": "129.90", "currency": "EUR", "store": "web",
                  "occurred_at": _T, "points": 12, "qualifying_points": 12, "refunded_amount": "0.00",
                  "points_reversed": 0, "transaction": _EARN, "tier_upgrade": None, "created_at": _T}),
    "orders_earn_batch": Op(
        "earning", "Earn points on up to 1,000 orders",
        "A point of sale's end-of-day sync or a bulk award: each order is the `POST /api/v1/orders` it stands for, "
        "exactly once by its own `idempotency_key` (the same key and order replay the stored answer, also one the "
        "single path gave; another order under it is that order's 409 `idempotency_key_reused`), so the batch "
        "takes no Idempotency-Key header. A malformed order refuses the whole batch (400, nothing written). Every "
        "well-formed order gets a result, in request order, with the status the single path would have answered: "
        "201 with the `order`, or an `error` in the one error shape (`member_not_found`, `member_inactive`, "
        "`duplicate_order`, `currency_not_supported`, `balance_limit_exceeded`, `referral_changed`, "
        "`idempotency_key_reused`, `idempotency_in_progress`, `invalid`); a refused order is undone alone and "
        "the others are placed. The summary counts what was `created`, `replayed` and `failed`.",
        request={"orders": [
            {"idempotency_key": "pos-7-0001", "member": "c-1042", "order_id": "POS7-0001", "amount": "129.90",
             "currency": "EUR", "store": "pos-7", "occurred_at": _T},
            {"idempotency_key": "pos-7-0002", "member": "c-404", "order_id": "POS7-0002", "amount": "9.90",
             "currency": "EUR"}]},
        response={"created": 1, "replayed": 0, "failed": 1, "results": [
            {"index": 0, "status": 201, "replayed": False, "order": {
                "order_id": "POS7-0001", "member": "c-1042", "amount": "129.90", "currency": "EUR", "store": "pos-7",
                "occurred_at": _T, "points": 12, "qualifying_points": 12, "refunded_amount": "0.00",
                "points_reversed": 0, "transaction": _EARN, "tier_upgrade": None, "created_at": _T}},
            {"index": 1, "status": 404, "replayed": False, "error": {
                "code": "member_not_found", "message": "No member with external_id 'c-404'.", "fields": {}}}]}),
    "orders_read": Op("earning", "Read an order", "The order, what it earned and what was refunded.",
                      (L.ORDER_NOT_FOUND,)),
    "orders_refund": Op(
        "earning", "Refund an order",
        "Full (no `amount`) or partial refund, optionally by `lines`: takes back the points the refunded part "
        "earned. Points already spent are recovered by the program's policy and any shortfall is recorded. Points "
        "that paid for the refunded part come back (`points_returned`); a referral the order qualified is "
        "reversed if it no longer qualifies.",
        (L.ORDER_NOT_FOUND, L.REFUND_EXCEEDS_ORDER, (422, E.INVALID), L.BALANCE_LIMIT_EXCEEDED, F.REFERRAL_CHANGED),
        request={"amount": "30.00", "lines": [{"sku": "SKU-2", "amount": "30.00"}], "reason": "Returned by post"},
        response={"id": 301, "order_id": "A-1001", "amount": "30.00", "points_due": 3, "points_taken": 3,
                  "shortfall": 0, "points_expired": 0, "recovered": 0, "written_off": 0, "substituted": 0,
                  "restored": 0, "transaction": _txn(9003, "refund", -3, 129, "order:A-1001"), "created_at": _T,
                  "points_returned": 0}),
    "members_balance": Op(
        "earning", "Read a member's balance",
        "Available and pending points, lifetime earned, what expires when, what is released when, and the tier "
        "with its progress.", (M.MEMBER_NOT_FOUND,),
        response={"member": "c-1042", "available": 132, "pending": 40, "lifetime_earned": 1480,
                  "expiring": [{"date": "2026-06-30", "points": 50}],
                  "pending_release": [{"date": "2026-03-28", "points": 40}],
                  "tier": _TIER_OVERVIEW}),
    "members_transactions": Op(
        "earning", "Read a member's statement",
        "Every transaction, newest first, cursor-paginated: follow `next`. Filter with `kind` (repeatable).",
        (M.MEMBER_NOT_FOUND,),
        response={"next": "https://loyalty.example.com/api/v1/members/c-1042/transactions?cursor=cD05MDAx",
                  "previous": None, "results": [_REDEEM, _EARN]}),
    "points_adjust": Op(
        "earning", "Adjust points by hand",
        "A signed credit or debit with a reason, in the audit log. Needs the `points:adjust` scope or a staff "
        "login; above the actor's limit it needs a manager (422 `adjustment_limit_exceeded`).",
        (M.MEMBER_NOT_FOUND, M.MEMBER_INACTIVE, L.ADJUSTMENT_LIMIT_EXCEEDED, L.INSUFFICIENT_POINTS,
         L.BALANCE_LIMIT_EXCEEDED),
        request={"member": "c-1042", "points": 250, "reason": "Goodwill: late delivery of A-1001"},
        response=_txn(9004, "adjust", 250, 382, "", reason="Goodwill: late delivery of A-1001")),
    "points_adjust_bulk": Op(
        "earning", "Adjust points of many members",
        "The same signed credit or debit, with one reason, for every member listed in `members` and/or in a "
        "`segment`, made by a job in batches (202: follow its progress with the id). Each member is adjusted once "
        "however often the job runs; a member the adjustment cannot be made for (not enough points for a debit, a "
        "closed membership) is counted in `skipped`. One audit entry for the whole.",
        (M.MEMBER_NOT_FOUND, E.NOT_FOUND, L.BULK_ADJUSTMENT_EMPTY, L.ADJUSTMENT_LIMIT_EXCEEDED),
        request={"segment": "stage:dormant", "points": 100, "reason": "We miss you: 100 points"},
        response={"id": 12, "points": 100, "reason": "We miss you: 100 points", "source": "stage:dormant",
                  "status": "queued", "total": 4210, "done": 0, "skipped": 0, "created_at": "2026-11-24T09:00:00Z",
                  "finished_at": None}),
    "points_adjust_bulk_read": Op(
        "earning", "Read a bulk adjustment's progress",
        "`status` (queued, running, done), `total` members, `done` and `skipped` so far.",
        (L.BULK_ADJUSTMENT_NOT_FOUND,),
        response={"id": 12, "points": 100, "reason": "We miss you: 100 points", "source": "stage:dormant",
                  "status": "done", "total": 4210, "done": 4207, "skipped": 3, "created_at": "2026-11-24T09:00:00Z",
                  "finished_at": "2026-11-24T09:00:41Z"}),
    # redemption
    "redemptions_create": Op(
        "redemption", "Redeem points",
        "Spend `points` (optionally against an `order_id`) or redeem a catalog `reward` (`quantity`). Refused "
        "with 422 and the first rule's code when the balance or a rule forbids it; `reasons` lists every rule "
        "that refused.",
        (M.MEMBER_NOT_FOUND, R.REWARD_NOT_FOUND, *_REFUSALS, *_REWARD_REFUSALS),
        request={"member": "c-1042", "points": 100, "order_id": "A-1001", "reason": "Discount on A-1001"},
        response=_REDEMPTION),
    "redemptions_read": Op("redemption", "Read a redemption", "The redemption, its transactions and vouchers.",
                           (R.REDEMPTION_NOT_FOUND,)),
    "redemptions_cancel": Op(
        "redemption", "Cancel a redemption",
        "Gives the points back to the lots they came from and voids its vouchers. Refused once a voucher of it "
        "was used, or when it paid for a recorded order (that comes back through the order's refund).",
        (R.REDEMPTION_NOT_FOUND, L.REDEMPTION_NOT_CANCELLABLE, R.VOUCHER_ALREADY_REDEEMED,
         L.BALANCE_LIMIT_EXCEEDED),
        request={"reason": "Customer changed their mind"},
        response={**_REDEMPTION, "status": "cancelled", "cancelled_at": _T,
                  "cancel_transaction": _txn(9005, "redeem_cancel", 100, 132, "redemption:57", reverses=9002)}),
    "rewards_list": Op("redemption", "List the rewards", "The catalog: rewards on offer now, with their limits."),
    "rewards_read": Op("redemption", "Read a reward", "One reward of the catalog.", (R.REWARD_NOT_FOUND,)),
    "causes_list": Op("redemption", "List the causes", "Causes members can donate points to, with their totals."),
    "quote": Op(
        "redemption", "Quote a cart",
        "What this member can use on this cart: the most points usable, the discount they buy, and each "
        "reward's eligibility with its reasons. Reads only: no Idempotency-Key.",
        (M.MEMBER_NOT_FOUND, E.CURRENCY_NOT_SUPPORTED, R.REWARD_NOT_FOUND)),
    # checkout
    "checkout_hold": Op(
        "checkout", "Hold points for an order",
        "Points leave the available balance now and come back by themselves if the order is not confirmed "
        "within the rules' hold time. One hold per order.",
        (M.MEMBER_NOT_FOUND, E.CURRENCY_NOT_SUPPORTED, R.HOLD_EXISTS, *_REFUSALS, *_CHECKOUT_REFUSALS)),
    "checkout_hold_read": Op("checkout", "Read a hold", "The hold and its status.", (R.REDEMPTION_NOT_FOUND,)),
    "checkout_confirm": Op(
        "checkout", "Confirm a hold",
        "The order was placed: the held points are spent for good. A lapsed hold is refused (hold again).",
        (R.REDEMPTION_NOT_FOUND, R.NOT_A_HOLD, R.HOLD_EXPIRED, R.HOLD_NOT_ACTIVE)),
    "checkout_release": Op(
        "checkout", "Release a hold",
        "The order was not placed: the held points come back. Releasing a released or lapsed hold is a no-op.",
        (R.REDEMPTION_NOT_FOUND, R.NOT_A_HOLD, R.HOLD_NOT_ACTIVE)),
    "members_vouchers": Op(
        "vouchers", "List a member's vouchers",
        "The member's vouchers, newest first, cursor-paginated like the statement; `status` filters (repeatable).",
        (M.MEMBER_NOT_FOUND,)),
    "members_redemptions": Op(
        "redemption", "List a member's redemptions",
        "The member's redemptions with their vouchers, newest first, cursor-paginated; `status` filters.",
        (M.MEMBER_NOT_FOUND,)),
    "me_vouchers": Op("member self-service", "List my vouchers", "As the shop's listing, for the member's own account."),
    "me_redemptions": Op("member self-service", "List my redemptions",
                         "As the shop's listing, for the member's own account."),
    "members_page_link_issue": Op(
        "members", "Issue a link to the member's own page",
        "A signed, read-only link to the member's page (balance, vouchers, history) that works for days, for "
        "e-mails; not an API credential. Not idempotent: each call signs a new link.",
        (M.MEMBER_NOT_FOUND, M.MEMBER_INACTIVE)),
    "members_page_links_revoke": Op(
        "members", "Revoke the links to a member's page",
        "Every link issued to the member so far stops working (a page already open too).", (M.MEMBER_NOT_FOUND,)),
    # vouchers
    "vouchers_validate": Op(
        "vouchers", "Validate a voucher",
        "Whether the voucher can be used now (`valid`, and the `reason` when not), without using it.",
        (R.VOUCHER_NOT_FOUND,)),
    "vouchers_redeem": Op(
        "vouchers", "Use a voucher",
        "Once: a second use is 409 `voucher_already_redeemed`; a void or expired voucher is refused (422).",
        (R.VOUCHER_NOT_FOUND, R.VOUCHER_ALREADY_REDEEMED, R.VOUCHER_VOID, R.VOUCHER_EXPIRED)),
    # referrals
    "members_referral_attach": Op(
        "referrals", "Attach a referral code",
        "Once per member, within the program's `attach_days` of joining. Rate-limited.",
        (M.MEMBER_NOT_FOUND, *_ATTACH)),
    "members_referrals": Op(
        "referrals", "Read a member's referrals",
        "The member's own code, who referred them, the people they referred and what they earned.",
        (M.MEMBER_NOT_FOUND,)),
    "referral_codes_read": Op(
        "referrals", "Look a referral code up",
        "Whether it is a code and the welcome points on offer. Rate-limited, so codes cannot be enumerated.",
        (F.REFERRAL_CODE_NOT_FOUND,)),
    # memberships
    "tiers_list": Op("memberships", "List the tiers", "The active tiers, lowest first, with their benefits."),
    "plans_list": Op("memberships", "List the paid plans", "The paid plans on sale, cheapest first."),
    "members_tier": Op(
        "memberships", "Read a member's tier",
        "Tier, combined benefits, progress to the next tier, a pending downgrade, a pin, and history.",
        (M.MEMBER_NOT_FOUND,)),
    "subscriptions_list": Op("memberships", "List a member's paid memberships", "Newest first, with their events.",
                             (M.MEMBER_NOT_FOUND,)),
    "subscriptions_start": Op(
        "memberships", "Start a paid membership",
        "With its payment (`payment_reference`, counted once per channel) or as a `trial`. One live membership "
        "per member; benefits apply at once.",
        (M.MEMBER_NOT_FOUND, M.PLAN_NOT_FOUND, M.MEMBER_INACTIVE, E.CURRENCY_NOT_SUPPORTED, (422, E.INVALID),
         M.NO_TRIAL, M.TRIAL_USED, M.SUBSCRIPTION_EXISTS, M.PAYMENT_REFERENCE_USED)),
    "subscriptions_renew": Op(
        "memberships", "Renew a paid membership",
        "A renewal payment: the next period follows the current one without a gap, also when paid late within "
        "the grace period.",
        (M.MEMBER_NOT_FOUND, M.SUBSCRIPTION_NOT_FOUND, M.SUBSCRIPTION_NOT_LIVE, M.SUBSCRIPTION_NOT_RENEWABLE,
         M.PAYMENT_REFERENCE_USED, E.CURRENCY_NOT_SUPPORTED)),
    "subscriptions_cancel": Op(
        "memberships", "Cancel a paid membership",
        "At the end of the period, or `immediately` (optionally with a `refund_amount`).",
        (M.MEMBER_NOT_FOUND, M.SUBSCRIPTION_NOT_FOUND, M.SUBSCRIPTION_NOT_LIVE, (422, E.INVALID))),
    # member self-service
    "me_read": Op("member self-service", "Read my profile", "The member's own profile."),
    "me_balance": Op("member self-service", "Read my balance", "As the shop's balance, for the member's own account."),
    "me_transactions": Op("member self-service", "Read my statement",
                          "As the shop's statement, for the member's own account."),
    "me_tier": Op("member self-service", "Read my tier", "The member's tier, benefits and progress."),
    "me_referrals": Op("member self-service", "Read my referrals",
                       "The member's own code and the people they referred (first names only)."),
    # insight
    "survey_answers_record": Op(
        "insight", "Record a survey answer",
        "A member's answer to an open survey (NPS 0-10, CSAT 1-5, CLI three 1-6 questions), once per survey and "
        "period: a later answer in the same period answers the first one (`recorded: false`). The first answer of a "
        "period may earn points, once.", (M.MEMBER_NOT_FOUND, IN.SURVEY_NOT_FOUND, M.MEMBER_INACTIVE)),
    "me_survey_answers_record": Op(
        "member self-service", "Answer a survey", "As the shop's survey answer, for the member's own account.",
        (IN.SURVEY_NOT_FOUND, M.MEMBER_INACTIVE)),
    "member_insight": Op(
        "insight", "Read what we know of a member",
        "Lifecycle stage, value tier, loyalty type, RFM scores, tags, purchase facts, lifetime value (simple and "
        "BG/NBD + Gamma-Gamma), P(alive) and churn risk, as of the last nightly run.", (M.MEMBER_NOT_FOUND,)),
    "segments_list": Op("insight", "List the segments", "Every segment (stage, value, loyalty type, tag) with its "
                        "count of members, as of the last nightly run."),
    "segment_members": Op("insight", "List a segment's members",
                          "The members of one segment (e.g. `stage:active`), keyset-paginated. An unknown segment "
                          "is a 404.", (E.NOT_FOUND,)),
    "metrics_read": Op("insight", "Read the program's metrics",
                       "NPS, CSAT, CLI, retention and churn rates, order value, purchase frequency, upsell and "
                       "redemption rates, breakage and points liability for a day, week or month, optionally per "
                       "store or segment (formulas in the README). An unknown segment is a 404.", (E.NOT_FOUND,)),
    "order_history_import": Op(
        "insight", "Import past orders",
        "Orders from before the program, recorded for the members' facts, segments and lifetime value; no points "
        "are awarded. Sent again, changes nothing. Unknown members, future dates or an order id twice refuse the "
        "whole import (422 naming the rows).", (M.MEMBER_NOT_FOUND, (422, E.INVALID))),
    # privacy (GDPR; config/privacy.py)
    "members_export": Op(
        "members", "Export a member's personal data",
        "Everything we hold on the member as one JSON document: identity, consents, tiers, paid plans, the ledger "
        "statement and lots, orders, redemptions, vouchers, referrals, messages and the audit entries about them. "
        "Needs the scope `members:export`; every export is audited.", (M.MEMBER_NOT_FOUND,)),
    "members_erase": Op(
        "members", "Erase a member's personal data",
        "Pseudonymises the member (GDPR): name, e-mail, phone, birth date and card number are removed, the "
        "external_id becomes a pseudonym (answered), messages lose their texts, tokens and page links end, the "
        "membership is closed. The ledger, its totals and the audit trail stay. Needs the scope `members:erase`; "
        "audited with the reason.", (M.MEMBER_NOT_FOUND,)),
    # campaigns
    "events_record": Op(
        "campaigns", "Record behaviour events",
        "One event, or `events`: a batch of up to 1,000. Each is validated against its event type's attribute "
        "schema; the first bad one refuses the whole batch (its `index`), and nothing is written. Recorded once "
        "per `event_id` and channel (sent again: counted in `duplicates`); the live campaigns the new events fire "
        "and the challenges they count towards are applied in the same transaction. Events are kept for the "
        "retention staff set (months); an older one is refused (`event_too_old`).",
        (CA.EVENT_MEMBER_UNKNOWN, CA.EVENT_TYPE_UNKNOWN, CA.EVENT_ATTRIBUTES_INVALID, CA.EVENT_TOO_OLD,
         (422, E.INVALID)),
        request={"events": [{"event_id": "ev-1", "member": "C-1001", "type": "course_viewed",
                             "occurred_at": "2026-11-24T10:00:00Z", "attributes": {"course_id": "py-101"}}]},
        response={"recorded": 1, "duplicates": 0, "fired": 0}),
    "member_challenges": Op(
        "campaigns", "Read a member's challenges",
        "Every live challenge and every one the member completed, with the progress of the current attempt: "
        "`count` (do an event, or order, `target` times within `within_days` of the first) or `streak` (an order "
        "every week for `target` weeks). Kept as events and orders are recorded; completing pays once.",
        (M.MEMBER_NOT_FOUND,),
        response={"results": [{"code": "five-courses", "title": "Watch 5 courses in a week", "description": "",
                               "kind": "count", "event_type": "course_viewed", "target": 5, "within_days": 7,
                               "progress": 3, "status": "in_progress", "started_at": _T,
                               "due_by": "2026-03-21T10:21:07Z", "completed_at": None, "ends_at": None,
                               "reward": {"points": 200, "reward": None}, "points": 0, "voucher": None}]}),
    "me_challenges": Op("member self-service", "Read my challenges", "As the shop's read, for the member's own "
                        "account."),
}

# Rules across the fields of a request body that the serializers check in `validate()`.
REQUEST_RULES = {
    "RedemptionCreateRequest": {"oneOf": [{"required": ["points"]}, {"required": ["reward"]}]},
}

# --- Links: the core flow, register -> earn -> redeem -> cancel -> refund ----------------------------------------
# OpenAPI links say which answer feeds which next request, so a client generator or Schemathesis' stateful phase
# can chain the calls: the member a registration made earns on an order, redeems on that order, cancels the
# redemption, and the order is refunded. A `requestBody` here names only the fields it carries over; the rest
# of the body is the caller's.

_MEMBER = "$response.body#/external_id"
LINKS: dict[str, dict[str, dict[str, dict]]] = {
    "members_register": {"201": {
        "EarnOnAnOrder": {"operationId": "orders_earn", "requestBody": {"member": _MEMBER},
                          "description": "The new member earns points on an order."},
        "Redeem": {"operationId": "redemptions_create", "requestBody": {"member": _MEMBER},
                   "description": "The new member spends points."},
        "ReadTheBalance": {"operationId": "members_balance", "parameters": {"path.external_id": _MEMBER},
                           "description": "The new member's balance."},
    }},
    "orders_earn": {"201": {
        "RedeemOnTheOrder": {"operationId": "redemptions_create",
                             "requestBody": {"member": "$response.body#/member", "order_id": "$response.body#/order_id"},
                             "description": "The member spends points on this order."},
        "RefundTheOrder": {"operationId": "orders_refund", "parameters": {"path.order_id": "$response.body#/order_id"},
                           "description": "The order is refunded: the points it earned are taken back."},
    }},
    "redemptions_create": {"201": {
        "CancelTheRedemption": {"operationId": "redemptions_cancel",
                                "parameters": {"path.redemption_id": "$response.body#/id"},
                                "description": "The redemption is cancelled: its points come back."},
    }},
    "redemptions_cancel": {"200": {
        "RefundTheOrder": {"operationId": "orders_refund", "parameters": {"path.order_id": "$response.body#/order_id"},
                           "description": "The order the cancelled redemption was for is refunded."},
    }},
}


# --- The hook -----------------------------------------------------------------------------------------------

_METHODS = {"get", "put", "post", "patch", "delete"}


def _common(op: dict, op_id: str) -> list[tuple[int, str]]:
    codes = [(401, E.NOT_AUTHENTICATED), (401, E.AUTHENTICATION_FAILED), (403, E.PERMISSION_DENIED)]
    params = op.get("parameters", [])
    if any(p.get("in") == "query" for p in params):  # a bad cursor, page size or filter value
        codes.append((400, E.INVALID))
    if any(p.get("in") == "path" and p["schema"].get("type") == "integer" for p in params):  # an id not a number
        codes.append((404, E.NOT_FOUND))
    if "requestBody" in op:
        codes += [(400, E.INVALID), (400, E.MALFORMED), (413, E.REQUEST_TOO_LARGE), (415, E.UNSUPPORTED_MEDIA_TYPE)]
    if any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in op.get("parameters", [])):
        codes += [(400, E.IDEMPOTENCY_KEY_MISSING), (400, E.IDEMPOTENCY_KEY_TOO_LONG), (409, E.IDEMPOTENCY_KEY_REUSED),
                  (409, E.IDEMPOTENCY_IN_PROGRESS)]
    if "429" in op.get("responses", {}):
        codes.append((429, E.THROTTLED))
    codes.append((503, E.SERVICE_UNAVAILABLE))  # the database restarting: retry after Retry-After
    return codes


def operation_errors(op: dict, op_id: str) -> dict[int, list[str]]:
    """Status -> the codes this operation can answer with it, in a stable order."""
    by_status: dict[int, list[str]] = {}
    pairs = _common(op, op_id) + [c if isinstance(c, tuple) else (CODES[c].status, c) for c in OPERATIONS[op_id].errors]
    for status, code in pairs:
        codes = by_status.setdefault(status, [])
        if str(code) not in codes:
            codes.append(str(code))
    return dict(sorted(by_status.items()))


def _merge_extra(codes: list[str]) -> dict:
    """The extra fields of `codes`, each described once with the codes that carry it."""
    found: dict[str, list[tuple[str, dict, str]]] = {}
    for code in codes:
        for name, (schema, description, _) in CODES[code].extra.items():
            found.setdefault(name, []).append((code, schema, description))
    props = {}
    for name, uses in found.items():
        texts: dict[str, list[str]] = {}
        for code, _, description in uses:
            texts.setdefault(description, []).append(f"`{code}`")
        schemas = {repr(schema) for _, schema, _ in uses}
        schema = dict(uses[0][1]) if len(schemas) == 1 else {}
        schema["description"] = " ".join(f"{', '.join(cs)}: {text}" for text, cs in texts.items())
        props[name] = schema
    return props


def _error_example(code: str) -> dict:
    doc = CODES[code]
    body = {"code": code, "message": doc.message, "fields": doc.fields}
    body.update({name: example for name, (_, _, example) in doc.extra.items()})
    return {"summary": code, "value": {"error": body}}


def error_response(status: int, codes: list[str]) -> dict:
    """The one error shape, with `code` narrowed to `codes` and their extra fields."""
    detail = {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "enum": codes, "description": "Machine-readable: branch on this."},
            "message": {"type": "string", "description": "For people; its wording may change."},
            "fields": {"type": "object", "additionalProperties": {},
                       "description": "Input errors by field path (a list of messages, or nested by index/key); "
                                      "empty when the error is not about a field.",
                       "example": {"points": ["Must be positive."]}},
            **_merge_extra(codes),
        },
    }
    response = {
        "description": ", ".join(f"`{c}`" for c in codes),
        "content": {"application/json": {
            "schema": {"type": "object", "required": ["error"], "properties": {"error": detail}},
            "examples": {code: _error_example(code) for code in codes},
        }},
    }
    retry = [c for c in codes if c in _RETRY_AFTER]
    if retry:
        response["headers"] = {"Retry-After": {
            "description": "Seconds to wait before sending the same request again (same Idempotency-Key), with "
                           + ", ".join(f"`{c}`" for c in retry) + ".",
            "required": len(retry) == len(codes), "schema": {"type": "integer", "minimum": 0}}}
    return response


# Codes answered with a Retry-After header.
_RETRY_AFTER = {E.SERVICE_UNAVAILABLE, E.IDEMPOTENCY_IN_PROGRESS}


def _security(op_id: str) -> list[dict]:
    if op_id.startswith("me_"):
        return [{"MemberToken": []}]
    if op_id in ("points_adjust", "points_adjust_bulk", "points_adjust_bulk_read"):
        return [{"ApiKey": []}, {"cookieAuth": []}]
    return [{"ApiKey": []}]


def _example(content: dict, value: dict) -> None:
    for media in content.values():
        media["examples"] = {"example": {"value": value}}


def _all_codes_component() -> dict:
    rows = "\n".join(f"| `{code}` | {doc.status} | {doc.message} |" for code, doc in CODES.items())
    return {"type": "string", "enum": [str(c) for c in CODES],
            "description": "Every error code of the API.\n\n| code | status | e.g. |\n| --- | --- | --- |\n" + rows}


def postprocess(result: dict, generator, request, public) -> dict:
    """Apply OPERATIONS to the generated schema (a drf-spectacular postprocessing hook)."""
    result["tags"] = TAGS
    request_bodies_closed(result)
    for name, rule in REQUEST_RULES.items():
        result["components"]["schemas"][name].update(rule)
    for path_item in result.get("paths", {}).values():
        for method, op in path_item.items():
            if method not in _METHODS:
                continue
            op_id = op["operationId"]
            doc = OPERATIONS.get(op_id)
            if doc is None:
                continue  # a new operation without docs: the schema tests say which
            op["tags"], op["summary"], op["description"] = [doc.tag], doc.summary, doc.description
            op["security"] = _security(op_id)
            responses = {k: v for k, v in op["responses"].items() if not k.startswith(("4", "5"))}
            for status, codes in operation_errors(op, op_id).items():
                responses[str(status)] = error_response(status, codes)
            op["responses"] = responses
            for status, links in LINKS.get(op_id, {}).items():
                responses[status]["links"] = links
            if doc.request is not None and "requestBody" in op:
                _example(op["requestBody"]["content"], doc.request)
            if doc.response is not None:
                success = next(v for k, v in responses.items() if k.startswith("2"))
                _example(success.get("content", {}), doc.response)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name in ("Error", "ErrorDetail"):  # the views' placeholder error serializer, replaced above
        schemas.pop(name, None)
    schemas["ErrorCode"] = _all_codes_component()
    return result
