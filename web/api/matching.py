"""/api/v1 matching: a laborer's matches, a posting's candidates, offers and the placement lifecycle."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..extensions import db
from ..models import PlacementStatus, Role
from ..services import convert, offers, ranking
from ..validation import mask_id_number
from .common import document_errors, remote_addr
from .security import SECURITY, require_user

blp = Blueprint("api_matching", __name__, url_prefix="", description="Matches, candidates and placements")

KINDS = ["opening", "batch", "welfare_post"]


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


class MatchSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    target_id = fields.Integer(required=True)
    laborer_id = fields.Integer(required=True)
    distance_km = fields.Float(required=True)
    score = fields.Float(required=True)
    eligible = fields.Boolean(required=True)
    factors = fields.List(fields.Nested(FactorSchema), required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    title = fields.String(allow_none=True)
    laborer_name = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True, metadata={"description": "masked"})


class MatchListSchema(Schema):
    matches = fields.List(fields.Nested(MatchSchema), required=True)
    ineligible = fields.List(fields.Nested(MatchSchema), required=True)


class MatchArgsSchema(Schema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    ineligible = fields.Integer(load_default=5, validate=validate.Range(min=0, max=50))


class OfferSchema(Schema):
    laborer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    target_id = fields.Integer(required=True, validate=validate.Range(min=1))


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


class PlacementSchema(Schema):
    id = fields.Integer(required=True)
    laborer_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    target_id = fields.Integer(required=True)
    status = fields.String(required=True)
    score = fields.Float(allow_none=True)
    distance_km = fields.Float(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    started_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    events = fields.List(fields.Nested(PlacementEventSchema), required=True)
    checkins = fields.List(fields.Nested(CheckinSchema), required=True)


def placement_json(placement) -> dict:
    """A placement as the API shows it."""
    return {
        "id": placement.id, "laborer_id": placement.laborer_id, "kind": placement.channel.value,
        "target_id": placement.target_id, "status": placement.status.value, "score": placement.score,
        "distance_km": placement.distance_km, "plan_id": placement.plan_id, "started_on": placement.started_on,
        "ended_on": placement.ended_on,
        "events": [{"from_status": e.from_status.value if e.from_status else None, "to_status": e.to_status.value,
                    "by_user_id": e.by_user_id, "at": e.at, "note": e.note} for e in placement.events],
        "checkins": [{"day": c.day, "is_still_working": c.is_still_working, "note": c.note,
                      "checked_on": c.checked_on} for c in placement.checkins],
    }


def _config():
    return convert.matcher_config(current_app.config)


def _locale() -> str:
    return str(get_locale() or "zh")


@blp.route("/laborers/<int:laborer_id>/matches")
class LaborerMatches(MethodView):
    decorators = [require_user(Role.CADRE, Role.OFFICE)]

    @blp.doc(security=SECURITY)
    @blp.arguments(MatchArgsSchema, location="query")
    @blp.response(200, MatchListSchema)
    @document_errors(blp)
    def get(self, args, laborer_id):
        """Top targets across openings, batches and welfare posts, with reasons; and the nearest misses."""
        _row, result = ranking.matches_for_laborer(
            db.session, g.user, laborer_id, _config(), limit=args["limit"],
            kinds=[args["kind"]] if args["kind"] else None, ineligible=args["ineligible"],
        )
        titles = _titles(result)
        locale = _locale()
        present = lambda m: {**ranking.match_json(m, locale), "title": titles.get((m.kind, m.target_id))}  # noqa: E731
        return {"matches": [present(m) for m in result.matches], "ineligible": [present(m) for m in result.ineligible]}


def _titles(result) -> dict:
    """The shown targets' titles: one query per kind, not one per match."""
    wanted: dict[str, set[int]] = {}
    for m in [*result.matches, *result.ineligible]:
        wanted.setdefault(m.kind, set()).add(m.target_id)
    titles = {}
    for kind, ids in wanted.items():
        model = convert.MODELS[kind]
        titles.update(((kind, tid), title) for tid, title in
                      db.session.execute(select(model.id, model.title).where(model.id.in_(ids))))
    return titles


def _candidates(kind: str, target_id: int, args) -> dict:
    _row, result = ranking.candidates_for_target(
        db.session, g.user, kind, target_id, _config(), limit=args["limit"], ineligible=args["ineligible"]
    )
    from ..models import Laborer

    locale = _locale()
    ids = {m.laborer_id for m in [*result.matches, *result.ineligible]}
    people = {row.id: row for row in db.session.execute(
        select(Laborer.id, Laborer.name, Laborer.id_number).where(Laborer.id.in_(ids)))} if ids else {}

    def present(m):
        laborer = people[m.laborer_id]
        return {**ranking.match_json(m, locale), "laborer_name": laborer.name,
                "id_number": mask_id_number(laborer.id_number)}

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
        """Top seeking laborers for an opening (ID numbers masked)."""
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
    decorators = [require_user(Role.CADRE, Role.OFFICE)]

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
        """Placements in your scope, newest first (at most 200)."""
        from ..models import Placement

        query = offers.placements_query(g.user).order_by(Placement.id.desc()).limit(200)
        return [placement_json(p) for p in db.session.scalars(query)]

    @blp.doc(security=SECURITY)
    @blp.arguments(OfferSchema)
    @blp.response(201, PlacementSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data):
        """Offer a laborer a target; eligibility and free capacity are re-checked now."""
        placement = offers.make_offer(db.session, g.user, data["laborer_id"], data["kind"], data["target_id"],
                                        _config(), remote_addr=remote_addr())
        db.session.commit()
        return placement_json(placement)


@blp.route("/placements/<int:placement_id>")
class PlacementItem(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlacementSchema)
    @document_errors(blp, 401, 404)
    def get(self, placement_id):
        """One placement with its lifecycle: who did what, when."""
        return placement_json(offers.visible_placement(db.session, g.user, placement_id))

    @blp.doc(security=SECURITY)
    @blp.arguments(TransitionSchema)
    @blp.response(200, PlacementSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def patch(self, data, placement_id):
        """Move a placement on: accepted, declined (with a reason), working, ended (with a reason)."""
        placement = offers.transition(db.session, g.user, placement_id, data["status"], note=data["note"],
                                        remote_addr=remote_addr())
        db.session.commit()
        return placement_json(placement)


@blp.route("/placements/<int:placement_id>/checkins")
class PlacementCheckins(MethodView):
    decorators = [require_user(Role.CADRE, Role.OFFICE)]

    @blp.doc(security=SECURITY)
    @blp.arguments(CheckinSchema)
    @blp.response(201, PlacementSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data, placement_id):
        """Record the 30-, 90- or 180-day retention check-in: is the laborer still working?"""
        from ..services.retention import record_checkin

        record_checkin(db.session, g.user, placement_id, data["day"], data["is_still_working"],
                       note=data["note"], remote_addr=remote_addr())
        db.session.commit()
        return placement_json(offers.visible_placement(db.session, g.user, placement_id))
