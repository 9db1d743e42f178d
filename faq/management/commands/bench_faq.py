"""manage.py bench_faq: the FAQ quality and speed benchmark through the real path.

The corpus is imported into the database with ``import_faqs`` first, then every labelled line goes through
what the chat engine runs: ``detect_intent``, then ``faq.services.faq_match`` (cached index, version stamp
read). The baselines, the held-out split check and the 10,000-entry speed run come from ``faq.bench``.
Prints the tables, then one JSON line with the figures.
"""

import json
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from faq import bench
from faq.intents import detect_intent
from faq.services import faq_match
from oa_platform.models import OfficialAccount

DEFAULT_CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"
DEFAULT_QUERIES = Path(settings.BASE_DIR).parent / "shared" / "faq" / "queries_dev.jsonl"


class Command(BaseCommand):
    help = "Import the FAQ corpus and report matcher quality (per account and style) and speed."

    def add_arguments(self, parser):
        parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
        parser.add_argument("--queries", default=str(DEFAULT_QUERIES))
        parser.add_argument("--entries", type=int, default=10_000, help="entries of the speed run")
        parser.add_argument("--speed-queries", type=int, default=1_000)
        parser.add_argument("--no-speed", action="store_true")
        parser.add_argument("--no-split", action="store_true", help="skip the held-out threshold check")

    def handle(self, *args, **options):
        for name in ("corpus", "queries"):
            if not Path(options[name]).is_file():
                raise CommandError(f"No such file: {options[name]}")
        corpus = bench.load_corpus(options["corpus"])
        queries = bench.load_queries(options["queries"])
        call_command("import_faqs", options["corpus"], verbosity=0)
        accounts = {a.slug: a for a in OfficialAccount.objects.filter(slug__in=[a["slug"] for a in corpus["accounts"]])}

        timings: list[float] = []

        def predict(slug: str, text: str):
            account = accounts[slug]
            if detect_intent(text, language=account.language) is not None:
                return ("intent", None, ())
            t0 = time.perf_counter()
            result = faq_match(account=account, text=text)
            timings.append((time.perf_counter() - t0) * 1000)
            return (result.decision, result.faq, tuple(c.key for c in result.suggestions))

        for slug in accounts:  # build the cached indexes outside the timings
            faq_match(account=accounts[slug], text="warm-up")
        quality = bench.run_quality(corpus, queries)
        library = quality["matcher"]
        quality["matcher"] = bench.evaluate(predict, queries)
        same = bench._summary(library["overall"]) == bench._summary(quality["matcher"]["overall"])
        split = None if options["no_split"] else bench.split_check(corpus, queries)
        speed = (
            None
            if options["no_speed"]
            else bench.run_speed(corpus, options["entries"], options["speed_queries"], queries=queries)
        )
        self.stdout.write("Quality through import_faqs + faq_match (database, cached index):")
        self.stdout.write(bench.format_report(quality, speed, split))
        path_ms = {
            "mean": round(statistics.fmean(timings), 3) if timings else None,
            "p50": round(bench._percentile(timings, 50), 3) if timings else None,
            "p99": round(bench._percentile(timings, 99), 3) if timings else None,
        }
        self.stdout.write(
            f"faq_match through the database (version read + cached matcher), {len(timings)} messages: "
            f"mean {path_ms['mean']} ms  p50 {path_ms['p50']} ms  p99 {path_ms['p99']} ms"
        )
        self.stdout.write(
            "database path gives the same figures as the pure library: " + ("yes" if same else "NO (check import)")
        )
        summary = {
            "thresholds": quality["thresholds"],
            "matcher": bench._summary(quality["matcher"]["overall"]),
            "matcher_accounts": {k: bench._summary(v) for k, v in quality["matcher"]["accounts"].items()},
            "matcher_styles": {k: bench._summary(v) for k, v in quality["matcher"]["styles"].items()},
            "faq_match_ms": path_ms,
            "same_as_library": same,
        }
        for name in ("baseline_wratio", "baseline_wratio_folded"):
            if name in quality:
                summary[name] = {**bench._summary(quality[name]["overall"]), "cutoff": quality[name]["cutoff"]}
        if split:
            summary["split"] = [{"train": r["train"], "test": r["test"]} for r in split["runs"]]
        if speed:
            summary["speed"] = {
                k: speed[k] for k in ("entries", "build_s", "memory_mb", "match_ms", "baseline_ms", "speedup_mean")
            }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
