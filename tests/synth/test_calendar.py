from datetime import datetime

import numpy as np
import pytest

from zhongwei.synth.calendar import (CST, GMV_SEASON, PARCEL_SEASON, Month, day_weights, month_range,
                                     monthly_gmv_fen, monthly_parcels)


def test_month_range_is_inclusive_and_crosses_years():
    months = month_range("2024-11:2025-02")
    assert [str(m) for m in months] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert [str(m) for m in month_range("2025-03")] == ["2025-03"]


@pytest.mark.parametrize("bad", ["2025-13", "2025-03:2025-01", "March"])
def test_month_range_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        month_range(bad)


def test_month_boundaries_are_local_time():
    m = Month(2025, 3)
    assert m.start() == datetime(2025, 3, 1, tzinfo=CST)
    assert m.end() == datetime(2025, 4, 1, tzinfo=CST)
    assert Month(2025, 12).next() == Month(2026, 1) and Month(2025, 1).prev() == Month(2024, 12)


def test_seasonality_sums_to_one_and_has_the_trade_peaks():
    for season in (PARCEL_SEASON, GMV_SEASON):
        assert season.sum() == pytest.approx(1.0)
        assert season.argmax() == 10  # Double 11
        assert season.argmin() == 1  # Spring Festival
    w = day_weights(Month(2025, 11))
    assert w.sum() == pytest.approx(1.0) and w.argmax() in (9, 10, 11)


def test_the_plan_level_at_scale_one_and_the_growth_path_back():
    parcels_2025 = sum(monthly_parcels(Month(2025, k), 1.0) for k in range(1, 13))
    parcels_2024 = sum(monthly_parcels(Month(2024, k), 1.0) for k in range(1, 13))
    assert parcels_2025 == pytest.approx(20_000_000, rel=1e-6)
    assert parcels_2025 / parcels_2024 == pytest.approx(1.23, rel=1e-4)
    gmv_2025 = sum(monthly_gmv_fen(Month(2025, k), 1.0) for k in range(1, 13))
    assert gmv_2025 == pytest.approx(8e11, rel=1e-6)  # 80亿元 in fen
    assert np.isclose(monthly_gmv_fen(Month(2024, 3), 1.0) * 1.12, monthly_gmv_fen(Month(2025, 3), 1.0), rtol=1e-6)
