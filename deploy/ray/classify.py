"""Classify a collection on a Ray cluster into Parquet (genreid's batch-run rows).

    python deploy/ray/classify.py MUSIC OUT/ [--concurrency N] [--num-cpus C] [--model NAME]

On a cluster (RAY_ADDRESS set, or submitted with `ray job submit` or a
KubeRay RayJob: deploy/ray/rayjob.yaml) it runs there; without one Ray
starts on this machine. Each of the N actors loads the model once and
classifies batches of files on its C threads; rows land as Parquet under
OUT/, with the schema of `genreid classify --out`. The Python tests run this
script as written (bindings/python/tests/test_ray.py).
"""

import argparse

import ray

import genreid.ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("music", help="a folder of audio files (walked)")
    parser.add_argument("out", help="a folder for the Parquet files")
    parser.add_argument("--concurrency", type=int, default=2, help="actors, each holding the model once")
    parser.add_argument("--num-cpus", type=float, default=2, help="CPUs (threads) per actor")
    parser.add_argument("--model", default="musicnn-gtzan", help="a built-in model or a model file")
    parser.add_argument("--batch-size", type=int, default=16, help="files per batch")
    args = parser.parse_args()
    ray.init()
    genreid.ray.classify(args.music, out=args.out, model=args.model, segments=True,
                         concurrency=args.concurrency, num_cpus=args.num_cpus, batch_size=args.batch_size)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
