"""/api/v1/welfare-posts: public welfare posts (公益岗位), created and changed by offices; administered month
by month (issue 13, part 3): attendance (cadres and offices), the payroll, terms and flags (offices)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import clock
from ..extensions import db
from ..models import Placement, WelfarePost
from ..services import registry, welfare
from .common import audit_list, document_errors, list_page, remote_addr
from .schemas import (
    AttendanceArgsSchema,
    AttendanceSheetSchema,
    AttendanceWriteSchema,
    PayrollArgsSchema,
    PayrollSchema,
    PostingListArgsSchema,
    TermRowSchema,
    TermStepResultSchema,
    TermStepSchema,
    WelfareFlagsSchema,
    WelfarePostPatchSchema,
    WelfarePostSchema,
    page_schema,
)
from .security import SECURITY, require_user

blp = Blueprint("api_welfare_posts", __name__, url_prefix="/welfare-posts", description="Public welfare posts")

WelfarePostPageSchema = page_schema(WelfarePostSchema, "WelfarePostPage")


@blp.route("")
class WelfarePosts(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(PostingListArgsSchema, location="query")
    @blp.response(200, WelfarePostPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """List the welfare posts you may see (filter by region prefix and status)."""
        return list_page(WelfarePost, args)

    @blp.doc(security=SECURITY)
    @blp.arguments(WelfarePostSchema)
    @blp.response(201, WelfarePostSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Create a welfare post of a village or township (offices only)."""
        return registry.create_welfare_post(db.session(), data, g.user, remote_addr())


@blp.route("/<int:post_id>")
class WelfarePostById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, WelfarePostSchema)
    @document_errors(blp)
    def get(self, post_id):
        """One welfare post."""
        return registry.get_record(db.session(), WelfarePost, post_id, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(WelfarePostPatchSchema)
    @blp.response(200, WelfarePostSchema)
    @document_errors(blp)
    def patch(self, changes, post_id):
        """Change some fields of a welfare post (offices only)."""
        return registry.update_welfare_post(db.session(), post_id, changes, g.user, remote_addr())


# -- month by month (issue 13, part 3) --------------------------------------------------------------


def _line(row: welfare.HolderMonth) -> dict:
    recorded = row.attendance
    household = row.laborer.household
    return {
        "placement_id": row.placement.id,
        "laborer_id": row.laborer.id,
        "laborer_name": row.laborer.name,
        "village_code": household.village_code,
        "household_code": household.code,
        "post_id": row.post.id,
        "post_title": row.post.title,
        "stipend_cents": recorded.stipend_cents if recorded else row.post.stipend_cents,
        "month_work_days": row.work_days,
        "days_expected": row.days_expected,
        "days_present": recorded.days_present if recorded else None,
        "due_cents": recorded.due_cents if recorded else 0,
    }


def _sheet(village_code: str | None, month) -> dict:
    village, rows = welfare.holders(db.session(), g.user, village_code, month)
    audit_list("list", "laborer", [r.laborer.id for r in rows], filters={"village": village.code, "month": str(month)})
    return {"village_code": village.code, "month": month.isoformat()[:7], "rows": [_line(r) for r in rows]}


@blp.route("/attendance")
class Attendance(MethodView):
    decorators = [require_user("attendance")]

    @blp.doc(security=SECURITY)
    @blp.arguments(AttendanceArgsSchema, location="query")
    @blp.response(200, AttendanceSheetSchema)
    @document_errors(blp)
    def get(self, args):
        """A village's welfare-post holders of a month, with the days present recorded and the stipend due."""
        return _sheet(args.get("village"), welfare.parse_month(args.get("month")))

    @blp.doc(security=SECURITY)
    @blp.arguments(AttendanceWriteSchema)
    @blp.response(200, AttendanceSheetSchema)
    @document_errors(blp)
    def put(self, data):
        """Record (or correct) holders' days present for a village's month: every row right, or nothing saved."""
        month = welfare.parse_month(data["month"])
        days = {row["placement_id"]: row["days_present"] for row in data["days"]}
        welfare.record_attendance(
            db.session(), g.user, data["village_code"], month, days, remote_addr=remote_addr(), via="api"
        )
        return _sheet(data["village_code"], month)


@blp.route("/payroll")
class Payroll(MethodView):
    decorators = [require_user("welfare_admin")]

    @blp.doc(security=SECURITY)
    @blp.arguments(PayrollArgsSchema, location="query")
    @blp.response(200, PayrollSchema)
    @document_errors(blp)
    def get(self, args):
        """A township's monthly payroll (用工台账): each holder's days and amount due, and the totals (cents)."""
        month = welfare.parse_month(args.get("month"))
        sheet = welfare.payroll(db.session(), g.user, args.get("township"), month)
        audit_list("report", "laborer", sheet.laborer_ids, filters={"region": sheet.township.code, "month": str(month)})
        return {
            "township_code": sheet.township.code,
            "month": month.isoformat()[:7],
            "lines": [_line(line) for line in sheet.lines],
            "totals": {
                "holders": len(sheet.lines),
                "days_expected": sheet.days_expected,
                "days_present": sheet.days_present,
                "due_cents": sheet.due_cents,
                "missing": sheet.missing,
            },
        }


@blp.route("/terms")
class Terms(MethodView):
    decorators = [require_user("welfare_admin")]

    @blp.doc(security=SECURITY)
    @blp.response(200, TermRowSchema(many=True))
    @document_errors(blp, 401, 403)
    def get(self):
        """Open posts whose term ends within WELFARE_TERM_NOTICE_DAYS (or has ended), with their holders."""
        rows = welfare.terms_ending(db.session(), g.user, clock.today())
        audit_list("list", "laborer", [r.holding.laborer_id for r in rows if r.holding], filters={"show": "terms"})
        return [
            {
                "post_id": r.post.id,
                "post_title": r.post.title,
                "region_code": r.post.region_code,
                "term_end_on": r.post.term_end_on,
                "days_left": r.days_left,
                "placement_id": r.holding.id if r.holding else None,
                "laborer_name": r.holding.laborer.name if r.holding else None,
            }
            for r in rows
        ]


@blp.route("/<int:post_id>/term")
class TermStep(MethodView):
    decorators = [require_user("welfare_admin")]

    @blp.doc(security=SECURITY)
    @blp.arguments(TermStepSchema)
    @blp.response(201, TermStepResultSchema)
    @document_errors(blp)
    def post(self, data, post_id):
        """Renew a post's term (to new_end_on, or by WELFARE_TERM_MONTHS) or end it (the holding ends)."""
        if data["action"] == "ended":
            return welfare.end_term(db.session(), g.user, post_id, note=data["note"], remote_addr=remote_addr())
        return welfare.renew_term(
            db.session(), g.user, post_id, new_end_on=data["new_end_on"], note=data["note"], remote_addr=remote_addr()
        )


def _flag(holding: Placement, age: int | None = None, limit: int | None = None) -> dict:
    return {
        "placement_id": holding.id,
        "laborer_id": holding.laborer_id,
        "laborer_name": holding.laborer.name,
        "household_id": holding.household_id,
        "post_id": holding.welfare_post_id,
        "post_title": holding.welfare_post.title,
        "age": age,
        "age_limit": limit,
    }


@blp.route("/flags")
class Flags(MethodView):
    decorators = [require_user("welfare_admin")]

    @blp.doc(security=SECURITY)
    @blp.response(200, WelfareFlagsSchema)
    @document_errors(blp, 401, 403)
    def get(self):
        """Holders at work elsewhere, households holding two posts, holders past the age limit."""
        found = welfare.flags(db.session(), g.user, clock.today())
        audit_list("list", "laborer", found.laborer_ids, filters={"show": "flags"})
        return {
            "working_elsewhere": [_flag(p) for p in found.working_elsewhere],
            "two_posts": [[_flag(p) for p in held] for _household, held in found.two_posts],
            "over_age": [_flag(p, age, limit) for p, age, limit in found.over_age],
        }
