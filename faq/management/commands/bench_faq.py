"""manage.py bench_faq: fit the FAQ decision on the corpus, then the quality and speed benchmark through the
real path.

1. The decision (`faq.calibration`) is fitted on messages generated from the corpus (`faq.lab.fit`, no labelled
   line) and written to faq/data/calibration.json (deterministic: the same corpus writes the same file); its
   coefficients and a leave-one-account-out held-out estimate on generated messages are printed.
2. The corpus is imported into the database with ``import_faqs``, then every labelled dev line goes through what
   the chat engine runs: ``detect_intent``, then ``faq.services.faq_match`` (cached index, version stamp read).
   The baselines and the 10,000-entry speed run come from ``faq.bench``.
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
from faq.index import index_forget
from faq.intents import detect_intent
from faq.services import faq_match
from oa_platform.models import OfficialAccount

DEFAULT_CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"
DEFAULT_QUERIES = Path(settings.BASE_DIR).parent / "shared" / "faq" / "queries_dev.jsonl"


class Command(BaseCommand):
    help = "Fit the FAQ decision on the corpus, then report matcher quality (per account and style) and speed."

    def add_arguments(self, parser):
        parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
        parser.add_argument("--queries", default=str(DEFAULT_QUERIES))
        parser.add_argument("--entries", type=int, default=10_000, help="entries of the speed run")
        parser.add_argument("--speed-queries", type=int, default=1_000)
        parser.add_argument("--no-speed", action="store_true")
        parser.add_argument("--no-fit", action="store_true", help="use the shipped calibration as it is")

    def handle(self, *args, **options):
        from faq.calibration import CALIBRATION_PATH, Calibration
        from faq.lab import fit

        for name in ("corpus", "queries"):
            if not Path(options[name]).is_file():
                raise CommandError(f"No such file: {options[name]}")
        corpus = bench.load_corpus(options["corpus"])
        queries = bench.load_queries(options["queries"])
        model, held_out, reliability = None, None, None
        if not options["no_fit"]:
            model, held_out, reliability = bench.calibrate(corpus)
            fit.save(model, CALIBRATION_PATH)  # clears the loaded calibration
            index_forget()  # cached indexes hold the decision rule they were built with
        else:
            with open(CALIBRATION_PATH, encoding="utf-8") as fh:
                model = json.load(fh)
        call_command("import_faqs", options["corpus"], verbosity=0)
        accounts = {a.slug: a for a in OfficialAccount.objects.filter(slug__in=[a["slug"] for a in corpus["accounts"]])}

        timings: list[float] = []

        def predict(slug: str, text: str):
            account = accounts[slug]
            if detect_intent(text, language=account.language) is not None:
                return ("intent", None, (), ())
            t0 = time.perf_counter()
            result = faq_match(account=account, text=text)
            timings.append((time.perf_counter() - t0) * 1000)
            return (
                result.decision,
                result.faq,
                tuple(c.key for c in result.suggestions),
                tuple(c.key for c in result.candidates),
            )

        for slug in accounts:  # build the cached indexes outside the timings
            faq_match(account=accounts[slug], text="warm-up")
        quality = bench.run_quality(corpus, queries, decide=Calibration.from_dict(model))
        library = quality["matcher"]
        quality["matcher"] = bench.evaluate(predict, queries)
        same = bench._summary(library["overall"]) == bench._summary(quality["matcher"]["overall"])
        speed = (
            None
            if options["no_speed"]
            else bench.run_speed(corpus, options["entries"], options["speed_queries"], queries=queries)
        )
        own = bench.own_quality(corpus, Calibration.from_dict(model))
        self.stdout.write(bench.format_report(None, None, model, held_out, reliability, own))
        self.stdout.write("")
        self.stdout.write("Quality through import_faqs + faq_match (database, cached index):")
        self.stdout.write(bench.format_report(quality, speed))
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
            "calibration": {k: model[k] for k in ("scope", "answer", "helped", "scope_at", "answer_at", "suggest_at")},
            "matcher": bench._summary(quality["matcher"]["overall"]),
            "matcher_accounts": {k: bench._summary(v) for k, v in quality["matcher"]["accounts"].items()},
            "matcher_styles": {k: bench._summary(v) for k, v in quality["matcher"]["styles"].items()},
            "faq_match_ms": path_ms,
            "same_as_library": same,
        }
        if own:
            summary["own_messages"] = bench._summary(own["overall"])
            summary["own_messages_styles"] = {k: bench._summary(v) for k, v in own["styles"].items()}
        if held_out:
            summary["held_out"] = {k: bench._summary(v) for k, v in held_out.items()}
        if reliability:
            summary["reliability"] = [
                {"band": b["band"], "lines": b["lines"], "predicted": b["predicted"], "observed": b["observed"]}
                for b in reliability
            ]
        for name in ("baseline_wratio", "baseline_wratio_folded"):
            if name in quality:
                summary[name] = {**bench._summary(quality[name]["overall"]), "cutoff": quality[name]["cutoff"]}
        if speed:
            summary["speed"] = {
                k: speed[k] for k in ("entries", "build_s", "memory_mb", "match_ms", "baseline_ms", "speedup_mean")
            }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
