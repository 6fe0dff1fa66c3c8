"""Two pedigree builds side by side on the MLflow workload, alternated on fresh stores (the machine's speed drifts:
only runs made together compare). usage: ab.py BEFORE_BINARY AFTER_BINARY"""
import os, sys, shutil, tempfile, json
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
import bench_mlflow as b
for rnd in range(2):
    for name in sys.argv[1:3]:
        work = tempfile.mkdtemp()
        p, url = b.start_pedigree(name, work)
        try:
            r = b.workload(url, 1500, 20, 1, "ab")
        finally:
            p.terminate(); p.wait(); shutil.rmtree(work, ignore_errors=True)
        line = f"round {rnd+1} {os.path.basename(name)}: client single {r['single_per_s']:.0f}/s, client batch {r['batch_per_s']:.1f}/s, raw single {r['raw_single_per_s']:.0f}/s, raw batch {r['raw_batch_per_s']:.1f}/s"
        print(line, flush=True)
