"""/api/v1 matching: a laborer's matches, a posting's candidates, offers and the placement lifecycle."""

from __future__ import annotations

from flask import current_app, g, jsonify
from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import CHANNELS, Placement, PlacementStatus
from ..services import convert, disclosure, offer_text, offers, ranking, scope
from ..services.accounts import audit
from .common import audit_list, document_errors, remote_addr
from .schemas import RECORD_ID
from .security import SECURITY, require_user

blp = Blueprint("api_matching", __name__, url_prefix="", description="Matches, candidates and placements")


class TextSchema(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)
    text = fields.String(required=True, metadata={"description": "in the request's language"})


class FactorSchema(TextSchema):
    name = fields.String(required=True)
    value = fields.Float(required=True)
    weight = fields.Float(required=True)


class ReasonSchema(TextSchema):
    code = fields.String(required=True)


class CongestionSchema(Schema):
    live_offers = fields.Integer(required=True, metadata={"description": "referrals and unanswered offers now"})
    cap = fields.Integer(
        allow_none=True, metadata={"description": "REFERRAL_FACTOR × open slots (capacity less accepted, working)"}
    )
    is_at_cap = fields.Boolean(required=True)
    text = fields.String(allow_none=True, metadata={"description": "the sentence shown, in the request's language"})


class MatchSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    target_id = fields.Integer(required=True)
    laborer_id = fields.Integer(required=True)
    distance_km = fields.Float(
        required=True,
        metadata={"description": "km; for employers whole km from the laborer's village point"},
    )
    score = fields.Float(required=True, metadata={"description": "for employers, from that distance"})
    eligible = fields.Boolean(required=True)
    factors = fields.List(fields.Nested(FactorSchema), required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    title = fields.String(allow_none=True, metadata={"description": "the target's title (matches only)"})
    laborer_name = fields.String(allow_none=True, metadata={"description": "candidates only"})
    id_number = fields.String(
        allow_none=True,
        metadata={
            "description": "candidates only: masked to its first 6 and last 1 characters "
            "for offices and cadres; null for employers"
        },
    )
    age = fields.Integer(allow_none=True, metadata={"description": "candidates only: whole years today"})
    congestion = fields.Nested(
        CongestionSchema,
        allow_none=True,
        metadata={"description": "the target's live offers and cap (issue 14): at its cap it ranks below open ones"},
    )
    held_for_others = fields.Boolean(
        required=True,
        metadata={
            "description": "the last optimal plan's capacity price of the target is above what placing this "
            "laborer there is worth: better left to others who fit it better; ranked after the others"
        },
    )


class MatchListSchema(Schema):
    matches = fields.List(fields.Nested(MatchSchema), required=True)
    ineligible = fields.List(
        fields.Nested(MatchSchema),
        required=True,
        metadata={"description": "the nearest ineligible ones with reasons; always empty for employers"},
    )


class MatchArgsSchema(Schema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    kind = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    ineligible = fields.Integer(load_default=5, validate=validate.Range(min=0, max=50))


class OfferSchema(Schema):
    laborer_id = fields.Integer(required=True, validate=RECORD_ID)
    kind = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    target_id = fields.Integer(required=True, validate=RECORD_ID)
    rematch = fields.Boolean(
        load_default=False,
        metadata={"description": "offer work to a laborer who has accepted an offer or is at work"},
    )
    refer = fields.Boolean(
        load_default=False,
        metadata={
            "description": "refer the laborer (status proposed: no slot held until it becomes an offer); "
            "counted against the posting's cap like an offer"
        },
    )


class TransitionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in PlacementStatus]))
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class PlacementEventSchema(Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String(required=True)
    by_user_id = fields.Integer(allow_none=True)
    at = fields.DateTime(required=True)
    note = fields.String(allow_none=True)


class CheckinSchema(Schema):
    day = fields.Integer(required=True, validate=validate.OneOf([30, 90, 180]))
    is_still_working = fields.Boolean(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    checked_on = fields.Date(dump_only=True)


class ContactSchema(Schema):
    name = fields.String(required=True)
    phone = fields.String(allow_none=True)


class PlacementSchema(Schema):
    id = fields.Integer(required=True)
    laborer_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    target_id = fields.Integer(required=True)
    status = fields.String(required=True)
    score = fields.Float(allow_none=True, metadata={"description": "null for employers"})
    distance_km = fields.Float(allow_none=True, metadata={"description": "whole km for employers"})
    plan_id = fields.Integer(allow_none=True)
    started_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    offered_at = fields.DateTime(allow_none=True, metadata={"description": "when the offer was made (its clock)"})
    answer_by = fields.Date(
        allow_none=True, metadata={"description": "the last day to answer; unanswered, the offer lapses the day after"}
    )
    is_half_way = fields.Boolean(
        required=True, metadata={"description": "still waiting and past half-way to answer_by (the reminder is due)"}
    )
    decline_reason = fields.String(allow_none=True, metadata={"description": "'no answer in time' for a lapse"})
    events = fields.List(fields.Nested(PlacementEventSchema), required=True)
    checkins = fields.List(fields.Nested(CheckinSchema), required=True)
    cadre_contact = fields.Nested(
        ContactSchema,
        allow_none=True,
        metadata={"description": "for the employer of an accepted or working placement: the village cadre to call"},
    )


#: What `placement_json` reads of a placement beyond its row: a list loads it in one statement per
#: relation, not two statements per placement.
PLACEMENT_JSON_LOADS = (selectinload(Placement.events), selectinload(Placement.checkins))


def placement_json(placement) -> dict:
    """A placement as the API shows it to the caller (an employer: coarse distance, no score)."""
    exact = disclosure.sees_exact_distances(g.user)
    return {
        "id": placement.id,
        "laborer_id": placement.laborer_id,
        "kind": placement.channel.value,
        "target_id": placement.target_id,
        "status": placement.status.value,
        "score": placement.score if exact else None,
        "distance_km": placement.distance_km if exact else disclosure.employer_km(placement.distance_km),
        "plan_id": placement.plan_id,
        "started_on": placement.started_on,
        "ended_on": placement.ended_on,
        "offered_at": placement.offered_at,
        "answer_by": placement.answer_by,
        "is_half_way": offers.is_half_way(placement, clock.today()),
        "decline_reason": placement.decline_reason,
        "events": [
            {
                "from_status": e.from_status.value if e.from_status else None,
                "to_status": e.to_status.value,
                "by_user_id": e.by_user_id,
                "at": e.at,
                "note": e.note,
            }
            for e in placement.events
        ],
        "checkins": [
            {"day": c.day, "is_still_working": c.is_still_working, "note": c.note, "checked_on": c.checked_on}
            for c in placement.checkins
        ],
        "cadre_contact": _contact(placement),
    }


def _contact(placement) -> dict | None:
    contact = disclosure.cadre_contact(db.session(), g.user, placement)
    return None if contact is None else {"name": contact.name, "phone": contact.phone}


def _config():
    return convert.matcher_config(current_app.config)


def _locale() -> str:
    return str(get_locale() or "zh")


@blp.route("/laborers/<int:laborer_id>/matches")
class LaborerMatches(MethodView):
    decorators = [require_user("matches")]

    @blp.doc(security=SECURITY)
    @blp.arguments(MatchArgsSchema, location="query")
    @blp.response(200, MatchListSchema)
    @document_errors(blp)
    def get(self, args, laborer_id):
        """Top targets across openings, batches and welfare posts, with reasons; and the nearest misses."""
        row, result = ranking.matches_for_laborer(
            db.session(),
            g.user,
            laborer_id,
            _config(),
            limit=args["limit"],
            kinds=[args["kind"]] if args["kind"] else None,
            ineligible=args["ineligible"],
        )
        audit(
            db.session(),
            "read",
            user=g.user,
            subject="laborer",
            subject_id=row.id,
            remote_addr=remote_addr(),
            what="matches",
        )
        titles = ranking.titles(db.session(), _config(), [*result.matches, *result.ineligible])
        locale = _locale()
        present = lambda m: {**ranking.match_json(m, locale), "title": titles.get((m.kind, m.target_id))}  # noqa: E731
        # Sent as built: every request of the hottest endpoint would otherwise walk MatchListSchema over
        # ~15 matches and their factors to copy what is already in its shape (a test holds it to the schema).
        return jsonify(
            {"matches": [present(m) for m in result.matches], "ineligible": [present(m) for m in result.ineligible]}
        )


def _candidates(kind: str, target_id: int, args) -> dict:
    result = ranking.candidates_for_target(
        db.session(), g.user, kind, target_id, _config(), limit=args["limit"], ineligible=args["ineligible"]
    )
    from ..models import Laborer

    audit_list(
        "candidates",
        "laborer",
        [m.laborer_id for m in [*result.matches, *result.ineligible]],
        filters=args,
        target=f"{kind} {target_id}",
    )
    locale = _locale()
    ids = {m.laborer_id for m in [*result.matches, *result.ineligible]}
    # One query for the shown people (not one per match); disclosure decides what of each is shown.
    people = {row.id: row for row in db.session.scalars(select(Laborer).where(Laborer.id.in_(ids)))} if ids else {}

    def present(m):
        laborer = people[m.laborer_id]
        shown = disclosure.identity(g.user, laborer, disclosure.View.LIST)
        return {
            **ranking.match_json(m, locale),
            "laborer_name": laborer.name,
            "id_number": shown.id_number,
            "age": shown.age,
        }

    return {"matches": [present(m) for m in result.matches], "ineligible": [present(m) for m in result.ineligible]}


class CandidateArgsSchema(MatchArgsSchema):
    ineligible = fields.Integer(load_default=0, validate=validate.Range(min=0, max=50))


@blp.route("/openings/<int:target_id>/candidates")
class OpeningCandidates(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(CandidateArgsSchema, location="query")
    @blp.response(200, MatchListSchema)
    @document_errors(blp)
    def get(self, args, target_id):
        """Top seeking laborers for an opening (ID numbers masked; for employers see the fields)."""
        return _candidates("opening", target_id, args)


@blp.route("/batches/<int:target_id>/candidates")
class BatchCandidates(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(CandidateArgsSchema, location="query")
    @blp.response(200, MatchListSchema)
    @document_errors(blp)
    def get(self, args, target_id):
        """Top seeking laborers for a transport batch, by their nearest pickup point."""
        return _candidates("batch", target_id, args)


@blp.route("/welfare-posts/<int:target_id>/candidates")
class WelfarePostCandidates(MethodView):
    decorators = [require_user("matches")]

    @blp.doc(security=SECURITY)
    @blp.arguments(CandidateArgsSchema, location="query")
    @blp.response(200, MatchListSchema)
    @document_errors(blp)
    def get(self, args, target_id):
        """Top laborers of poor households without work for a welfare post."""
        return _candidates("welfare_post", target_id, args)


@blp.route("/placements")
class Placements(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlacementSchema(many=True))
    @document_errors(blp, 401)
    def get(self):
        """Placements in your scope, newest first (at most 200); the read is audited."""
        query = scope.scoped(Placement, g.user).order_by(Placement.id.desc()).limit(200).options(*PLACEMENT_JSON_LOADS)
        rows = db.session.scalars(query).all()
        audit_list("list", "placement", [p.id for p in rows])
        return [placement_json(p) for p in rows]

    @blp.doc(security=SECURITY)
    @blp.arguments(OfferSchema)
    @blp.response(201, PlacementSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data):
        """Offer a laborer a target; eligibility, free capacity and the laborer's offers are re-checked now.

        Refused (409) when the laborer holds MAX_LIVE_OFFERS unanswered offers, or has accepted an
        offer or is at work and `rematch` is not set, or when the posting already carries its cap of
        live offers (REFERRAL_FACTOR × open slots; the message names the cap).
        """
        placement = offers.make_offer(
            db.session(),
            g.user,
            data["laborer_id"],
            data["kind"],
            data["target_id"],
            _config(),
            max_live_offers=current_app.config["MAX_LIVE_OFFERS"],
            rematch=data["rematch"],
            refer=data["refer"],
            remote_addr=remote_addr(),
        )
        return placement_json(placement)


@blp.route("/offers/waiting")
class WaitingOffers(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlacementSchema(many=True))
    @document_errors(blp, 401)
    def get(self):
        """Offers in your scope still waiting for an answer, soonest deadline first (an employer: its own)."""
        rows = offers.waiting_offers(db.session(), g.user, load=PLACEMENT_JSON_LOADS)
        audit_list("list", "placement", [p.id for p in rows], filters={"status": "offered"})
        return [placement_json(p) for p in rows]


@blp.route("/placements/<int:placement_id>")
class PlacementItem(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlacementSchema)
    @document_errors(blp, 401, 404)
    def get(self, placement_id):
        """One placement with its lifecycle: who did what, when."""
        return placement_json(scope.get_visible(db.session(), Placement, placement_id, g.user))

    @blp.doc(security=SECURITY)
    @blp.arguments(TransitionSchema)
    @blp.response(200, PlacementSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def patch(self, data, placement_id):
        """Move a placement on: a referral (proposed) to offered (a free slot and the laborer's offers
        re-checked), accepted, declined (with a reason), working, ended (with a reason)."""
        placement = offers.transition(
            db.session(),
            g.user,
            placement_id,
            data["status"],
            note=data["note"],
            max_live_offers=current_app.config["MAX_LIVE_OFFERS"],
            remote_addr=remote_addr(),
        )
        return placement_json(placement)


class OfferTextArgsSchema(Schema):
    lang = fields.String(
        load_default=None,
        validate=validate.OneOf(offer_text.LANGUAGES),
        metadata={"description": "zh or en; default: the request's language"},
    )


class OfferTextSchema(Schema):
    text = fields.String(required=True, metadata={"description": "a plain message to read out or send"})
    lang = fields.String(required=True, validate=validate.OneOf(offer_text.LANGUAGES))


@blp.route("/placements/<int:placement_id>/text")
class PlacementText(MethodView):
    decorators = [require_user("matches")]

    @blp.doc(security=SECURITY)
    @blp.arguments(OfferTextArgsSchema, location="query")
    @blp.response(200, OfferTextSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, args, placement_id):
        """The offer as a plain message in the laborer's language, to read out or send by SMS or WeChat."""
        placement = scope.get_visible(db.session(), Placement, placement_id, g.user)
        language = args["lang"] or offer_text.language_of(_locale())
        return {"text": offer_text.offer_text(db.session(), g.user, placement, language), "lang": language}


@blp.route("/placements/<int:placement_id>/checkins")
class PlacementCheckins(MethodView):
    decorators = [require_user("checkins")]

    @blp.doc(security=SECURITY)
    @blp.arguments(CheckinSchema)
    @blp.response(201, PlacementSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data, placement_id):
        """Record the 30-, 90- or 180-day retention check-in: is the laborer still working?"""
        from ..services.retention import record_checkin

        record_checkin(
            db.session(),
            g.user,
            placement_id,
            data["day"],
            data["is_still_working"],
            note=data["note"],
            remote_addr=remote_addr(),
        )
        return placement_json(scope.get_visible(db.session(), Placement, placement_id, g.user))
