"""COEI: answers scored, questions weighted 40/30/30, a stable monthly sample."""

from __future__ import annotations

import pytest

from orders.coei import AnswerError, index, sample, score_answer


def test_answers_are_scored_and_nonsense_is_asked_again() -> None:
    assert [score_answer(a) for a in ("是", "否", "5分", "1", "3", "不适用")] == [100, 0, 100, 0, 50, None]
    with pytest.raises(AnswerError, match="1-5"):
        score_answer("还行吧")


def test_the_index_weights_the_questions_40_30_30() -> None:
    perfect_notice = {"notice_before_shipment": 100.0, "update_frequency": 0.0, "delay_remedy": 0.0}
    assert index([perfect_notice]) == 40.0
    assert index([{"notice_before_shipment": 0.0, "update_frequency": 100.0, "delay_remedy": 100.0}]) == 60.0


def test_a_question_nobody_could_answer_is_left_out_of_the_weights() -> None:
    no_delays = [{"notice_before_shipment": 100.0, "update_frequency": 50.0, "delay_remedy": None}] * 3
    assert index(no_delays) == round((100 * 0.4 + 50 * 0.3) / 0.7, 1)
    assert index([]) is None


def test_the_monthly_sample_is_stable_and_sized() -> None:
    numbers = [f"SO20260301-{i:04d}" for i in range(1000)]
    picked = sample(numbers, "2026-03")
    assert len(picked) == 300 and picked == sample(list(reversed(numbers)), "2026-03")
    assert picked != sample(numbers, "2026-04")
    assert sample(numbers[:10], "2026-03") == sorted(numbers[:10])
