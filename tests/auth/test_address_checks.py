"""SS58 checks are remembered for real addresses only, so nobody can fill the caches."""

from __future__ import annotations

from bittensor.sp_core import Keypair

from app.auth import keys


def test_an_address_checked_twice_is_answered_from_the_cache() -> None:
    address = Keypair.create_from_uri("//cache-me").ss58_address
    keys.is_ss58(address)
    hits = keys._remembered_is_ss58.cache_info().hits

    assert keys.is_ss58(address) is True
    assert keys._remembered_is_ss58.cache_info().hits == hits + 1


def test_long_header_values_are_refused_without_being_remembered() -> None:
    before = (
        keys._remembered_is_ss58.cache_info().currsize,
        keys._remembered_key_is_weak.cache_info().currsize,
    )
    for n in range(50):
        value = f"5{n:04d}" + "A" * 30_000  # a head may carry 32 KiB
        assert keys.is_ss58(value) is False
        assert keys.public_key_is_weak(value) is False

    assert (
        keys._remembered_is_ss58.cache_info().currsize,
        keys._remembered_key_is_weak.cache_info().currsize,
    ) == before


def test_the_caches_are_bounded() -> None:
    assert keys._remembered_is_ss58.cache_info().maxsize == keys.KNOWN_ADDRESSES
    assert keys._remembered_key_is_weak.cache_info().maxsize == keys.KNOWN_ADDRESSES
