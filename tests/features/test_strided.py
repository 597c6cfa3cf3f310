"""The lean window view against numpy's reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from edge.features.strided import windows


@given(st.integers(0, 60), st.integers(1, 20), st.integers(1, 7), st.integers(0, 5), st.booleans())
def test_matches_sliding_window_view(
    n: int, length: int, step: int, skip: int, gapped: bool
) -> None:
    base = np.arange(2 * (n + skip), dtype=np.float32)
    a = base[skip * 2 :: 2] if gapped else base[skip : skip + n]
    got = windows(a, length, step)
    ref = sliding_window_view(a, length)[::step] if len(a) >= length else np.zeros((0, length))
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    assert not got.flags.writeable


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        windows(np.zeros((2, 2)), 1)
    with pytest.raises(ValueError):
        windows(np.zeros(3), 0)
