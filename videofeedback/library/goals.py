"""``case.goals``: the family's goals and their attainment scores (-2 to +2) over time."""

from __future__ import annotations

from datetime import date

from .audit import now_iso
from .case_part import CasePart
from .errors import LibraryError, NotFoundError
from .library import new_id
from .records import Goal, GoalId, GoalScore, fetch
from .roles import Action


class Goals(CasePart):
    def add(self, text: str) -> GoalId:
        case = self.case
        case.require(Action.EDIT_CASE)
        case.require_open()
        goal_id = GoalId(new_id("g"))
        case.db.execute(
            "INSERT INTO goals VALUES (?, ?, ?, ?)", (goal_id, text, case.session.name, now_iso())
        )
        case.audit("goal.add", goal_id)
        return goal_id

    def score(self, goal_id: str, score: int, when: date) -> None:
        case = self.case
        case.require(Action.EDIT_CASE)
        if not fetch(case.db, "SELECT 1 FROM goals WHERE id = ?", (goal_id,)):
            raise NotFoundError(f"there is no goal {goal_id} in case {case.id}")
        if not -2 <= score <= 2:
            raise LibraryError("a goal attainment score is from -2 to +2")
        case.db.execute(
            "INSERT OR REPLACE INTO goal_scores VALUES (?, ?, ?, ?, ?)",
            (goal_id, when.isoformat(), score, case.session.name, now_iso()),
        )
        case.audit("goal.score", goal_id, date=when.isoformat(), score=str(score))

    def all(self) -> list[Goal]:
        db = self.case.db
        goals = []
        for row in fetch(db, "SELECT id, text FROM goals ORDER BY created_at"):
            query = "SELECT date, score FROM goal_scores WHERE goal_id = ? ORDER BY date"
            scores = tuple(
                GoalScore(date.fromisoformat(s["date"]), int(s["score"]))
                for s in fetch(db, query, (row["id"],))
            )
            goals.append(Goal(GoalId(row["id"]), row["text"], scores))
        return goals
