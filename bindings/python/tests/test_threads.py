"""Native calls release the GIL: Python threads run while one computes."""

import threading

import numpy as np

import genreid


def test_a_long_call_lets_other_threads_run():
    y = (0.1 * np.random.default_rng(3).standard_normal(120 * 22050)).astype(np.float32)
    done = threading.Event()
    counted = []

    def work():
        genreid.effects.hpss(y)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    n = 0
    while not done.is_set():
        n += 1
    t.join()
    counted.append(n)
    # With the GIL held for the whole call, this loop could not run at all
    # while hpss computes (seconds); released, it spins millions of times.
    assert counted[0] > 10_000, counted


def test_threads_give_the_same_numbers():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    ys = [(0.1 * rng.standard_normal(22050 * 3)).astype(np.float32) for _ in range(8)]
    serial = [genreid.feature.mfcc(y=y) for y in ys]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda y: genreid.feature.mfcc(y=y), ys))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
