"""Issue 16: seed clauses the rules had wrong, each pinned by the clause it implements."""

from __future__ import annotations

import pandas as pd

from agingsim.fiscal.ledger import lottery_report

# ---------------------------------------------------------------- 000 二(一)8, 001 二(三)9: lottery


def _lottery_ledger(amount: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"year": [2025], "payer_level": ["city"], "funding": ["lottery"], "amount_cny": [amount]}
    )


def test_lottery_spending_equal_to_funds_is_not_overspent_000_8_001_9():
    """000-8 / 001-9: funds retained vs spent are money, compared to the fen: a float sum a hair above
    the funds (1,000,000.0000000001) is not overspending, one fen more is."""
    report = lottery_report(_lottery_ledger(1_000_000.0000000001), {"city": 1_000_000.0}, 0.55, 0.7, [2025])
    assert not report["overspent"].item()
    assert report["meets_rule"].item()
    report = lottery_report(_lottery_ledger(1_000_000.01), {"city": 1_000_000.0}, 0.55, 0.7, [2025])
    assert report["overspent"].item()


def test_lottery_minimum_share_is_met_to_the_fen_000_8():
    """000-8: ≥ 55%: spending 55,000 CNY of 100,000 retained meets it, although 0.55 × 100,000 is the
    float 55,000.00000000001; one fen less does not."""
    assert 0.55 * 100_000.0 > 55_000.0  # why the comparison is in fen
    ok = lottery_report(_lottery_ledger(55_000.0), {"city": 100_000.0}, 0.55, 0.7, [2025])
    assert ok["meets_rule"].item()
    short = lottery_report(_lottery_ledger(54_999.99), {"city": 100_000.0}, 0.55, 0.7, [2025])
    assert not short["meets_rule"].item()
