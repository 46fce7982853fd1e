"""The read path in one place: resolve the question against the conversation, retrieve,
select evidence, answer. ``Assistant`` is what the CLI, the web chat, the REST API and
the eval runner all call."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence

import numpy as np

from assistant import focus, speech
from assistant.coverage import answer_kind, has_kind, uncovered
from assistant.answer import abstain, compose_extractive, compose_statements, templates
from assistant.errors import IndexEmpty, UsageError
from assistant.evidence import evidence_from, lexical_overlap, rank_sentences, statements_by
from assistant.lexical import question_language
from assistant.retrieve import Filters, Retriever
from assistant.settings import Settings
from assistant.types import Answer, Evidence
from index import schema as S

MAX_QUESTION_CHARS = 2000
# A typed answer ("when", "how many") must be citable: within this of the best evidence.
TYPED_MARGIN = 0.3
# "How did Ukraine respond to ...?" asks what was done as much as what was said: a
# reaction to a named event is looked for among all sentences, not only statements.
_REACTION = re.compile(r"^\s*(?:how|what)\s+did\s+.+?\s+(?:react|respond)\s+(?:to|against)\b", re.I)
# "Quel est le titre de l'article qui...?" asks for a headline (article metadata).
_ASKS_TITLE = re.compile(r"\b(?:title|titles|headline|headlines|titre|titres|intitul\w*)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|et|et pour|et qu['’]en est-il de|quid de)\b", re.I)
_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|they|them|their|it|its|this|that|these|those|il|elle|lui|ils|elles|leur|leurs|son|sa|ses|ce|cet|cette|ces|a-t-il|a-t-elle)\b", re.I)
_NAMEISH = re.compile(r"\b([A-ZÀ-ÖØ-Þ][\w’'-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w’'-]+)*)")
_NOT_NAMES = {"What", "Who", "Whom", "When", "Where", "Why", "How", "Which", "Did", "Does", "Is",
              "Are", "Was", "Were", "Qui", "Que", "Quoi", "Quand", "Où", "Pourquoi", "Comment",
              "Quel", "Quelle", "Quels", "Quelles", "Qu", "Combien", "Est", "And", "Et", "The",
              "Le", "La", "Les", "A", "An", "In", "En", "According", "Selon", "Tell"}


def clean_question(question: str) -> str:
    q = _CONTROL.sub(" ", question or "").strip()
    if not q:
        raise UsageError("the question is empty; type a question about the articles")
    if len(q) > MAX_QUESTION_CHARS:
        raise UsageError(
            f"the question is {len(q)} characters long; keep it under {MAX_QUESTION_CHARS}"
        )
    return q


def _last_name(history: Sequence[str]) -> str:
    for earlier in reversed(history):
        parsed = speech.parse_speech_question(earlier)
        if parsed and parsed[0].lower() not in speech.PRONOUNS:
            return parsed[0]
        names = [n for n in _NAMEISH.findall(earlier) if n.split()[0] not in _NOT_NAMES]
        if names:
            return names[-1]
    return ""


def resolve(question: str, history: Sequence[str]) -> str:
    """Rewrite a follow-up so it stands on its own ("What else did he say?" after
    "Who is John Kirby?" becomes "What else did John Kirby say?")."""
    if not history:
        return question
    parsed = speech.parse_speech_question(question)
    if parsed and parsed[0].lower() in speech.PRONOUNS:
        name = _last_name(history)
        if name:
            return re.sub(rf"\b{re.escape(parsed[0])}\b", name, question, count=1)
    if _ELLIPSIS.match(question) and len(question.split()) <= 6:
        return f"{history[-1].rstrip(' ?')} — {question}"
    if _PRONOUN.search(question.replace("’", "'")):
        # "Quel était le but de sa visite ?" after "Qui a dirigé la délégation russe ?":
        # the earlier question carries the subject the pronoun stands for.
        return f"{question} — {history[-1]}"
    return question


class Assistant:
    def __init__(self, settings: Settings, store=None, embedder=None, llm=None) -> None:  # type: ignore[no-untyped-def]
        from index.embed import make_embedder
        from index.store import Store

        self.settings = settings
        self.store = store or Store(settings)
        self.embedder = embedder or make_embedder(settings)
        self.retriever = Retriever(self.store, settings)
        self.llm = llm
        if self.llm is None and settings.llm_url and settings.llm_model:
            from assistant.llm import OpenAICompatibleLLM

            self.llm = OpenAICompatibleLLM(
                settings.llm_url, settings.llm_model, api_key=settings.llm_api_key or None,
                timeout=settings.llm_timeout,
            )
        self._hash = settings.settings_hash()

    def warm(self) -> None:
        """Load the embedder's weights and the lexical index before the first user."""
        self.embedder.embed_query("warm up") if hasattr(self.embedder, "embed_query") else self.embedder.embed(["warm up"])
        _ = self.retriever.lexical

    def _embed_query(self, text: str) -> np.ndarray:
        if hasattr(self.embedder, "embed_query"):
            return self.embedder.embed_query(text)
        return self.embedder.embed([text])[0]

    def ask(
        self, question: str, history: Sequence[str] | None = None, filters: Filters | None = None
    ) -> Answer:
        """The whole answer (in LLM mode, the validated generation or the extractive fallback)."""
        final: Answer | None = None
        for item in self.ask_stream(question, history, filters):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def ask_stream(
        self, question: str, history: Sequence[str] | None = None, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """Yield partial answer text (LLM mode only) and finally the Answer. Abstention
        is decided before any LLM call; extractive mode yields the final Answer once."""
        t0 = time.perf_counter()
        answer = self._extractive(question, history, filters)
        if self.llm is None or answer.abstained:
            yield answer
            return
        from assistant.generate import generate_stream

        t = time.perf_counter()
        lang = question_language(question)
        final: Answer | None = None
        for item in generate_stream(self.llm, answer.resolved_question or answer.question, answer, lang,
                                    self.settings.prompts_dir):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None
        final.question = answer.question
        final.timings_ms = dict(answer.timings_ms)
        final.timings_ms["llm"] = (time.perf_counter() - t) * 1000
        final.timings_ms["total"] = (time.perf_counter() - t0) * 1000
        yield final

    def _extractive(
        self, question: str, history: Sequence[str] | None = None, filters: Filters | None = None
    ) -> Answer:
        t0 = time.perf_counter()
        question = clean_question(question)
        history = [clean_question(h) for h in (history or []) if h and h.strip()]
        self.store.check_embedder(self.embedder.name, for_writing=False)
        if self.store.articles.count() == 0:
            raise IndexEmpty()
        lang = question_language(question)
        resolved = resolve(question, history)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        vector = self._embed_query(resolved)
        timings["embed"] = (time.perf_counter() - t) * 1000

        parsed = speech.parse_speech_question(resolved)
        if parsed and _REACTION.match(resolved):
            parsed = None
        t = time.perf_counter()
        passages = self.retriever.retrieve(resolved, vector, filters)
        timings["retrieve"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        answer: Answer | None = None
        if parsed:
            answer = self._speech_answer(question, resolved, parsed, lang, filters)
        ranked: list[Evidence] = []
        if answer is None:
            asked = focus.followup_terms(question, resolved)
            # A question of names only ("Who is John Kirby?") is about its names.
            ranked = rank_sentences(resolved, vector, passages, self.store, self.retriever.lexical,
                                    terms=asked or focus.name_terms(resolved))
            timings["evidence"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            kind = answer_kind(question)
            terms = focus.checkable(asked, self.retriever.lexical)
            lead = self._typed_lead(kind, resolved, terms, ranked) if kind else []
            typed = not kind or bool(lead)
            missing = [] if typed else [kind]
            if lead:
                # The sentences that answer the asked type are cited first.
                ranked = lead + [ev for ev in ranked if all(ev is not x for x in lead)]
            top = ranked[: self.settings.max_citations]
            if terms and not any(focus.coverage(terms, ev.text) > 0 for ev in top):
                # None of the question's content words ("health", "soldiers") in any
                # sentence it would cite: the articles are about something else.
                missing.append("content")
            if _ASKS_TITLE.search(question) and not missing:
                ranked = self._headlines_first(ranked)
            missing += uncovered(resolved, [f"{e.title} {e.outlet} {e.text}" for e in ranked[:25]], self.settings.prompts_dir / "entities_en_fr.tsv")
            if missing:
                answer = abstain(question, ranked, templates(self.settings.prompts_dir, lang))
                answer.best_score = ranked[0].score if ranked else 0.0
            else:
                answer = compose_extractive(
                    question, ranked, lang=lang, prompts_dir=self.settings.prompts_dir,
                    threshold=self.settings.abstain_below, max_citations=self.settings.max_citations,
                )
        else:
            timings["evidence"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
        timings["answer"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        answer.timings_ms = timings
        answer.settings_hash = self._hash
        answer.resolved_question = resolved if resolved != question else ""
        return answer

    def _typed_lead(
        self, kind: str, resolved: str, terms: list[focus.Term], ranked: list[Evidence]
    ) -> list[Evidence]:
        """The citable sentences that answer a typed question ("when", "how many", a
        name): of the asked type, about the asked event and the asked names. Without
        any, the articles do not answer. ``ranked`` is re-sorted in place: evidence of
        the type is preferred."""
        noun = focus.counted(resolved, terms) if kind == "quantity" else None
        event = focus.event_terms(terms, kind)

        def answers(ev: Evidence) -> bool:
            return (has_kind(kind, ev.text, resolved)
                    and (noun is None or focus.quantity_of(noun, ev.text))
                    and focus.coverage(event, ev.text) >= 0.5)

        for ev in ranked:
            if answers(ev):
                ev.score += 0.05
        ranked.sort(key=lambda e: -e.score)
        top = ranked[: self.settings.max_citations]
        floor = max(self.settings.abstain_below, (top[0].score if top else 0.0) - TYPED_MARGIN)
        lead = [ev for ev in top if ev.score >= floor and answers(ev)]
        if not lead:
            return []
        # The date or the number must be about the asked names: "When did Janet Yellen
        # visit Pyongyang?" is not answered by the date of another visit. The names may
        # sit in the two sentences before ("Mais en mai, ils ont opposé leur veto").
        context = self._preceding(lead, 2)
        table = self.settings.prompts_dir / "entities_en_fr.tsv"
        return [ev for ev in lead
                if not uncovered(resolved, [ev.title, *context.get(ev.sentence_id, []), ev.text], table)]

    def _preceding(self, evidence: list[Evidence], n: int) -> dict[str, list[str]]:
        """The ``n`` sentences before each evidence sentence, read by id."""
        wanted: dict[str, list[str]] = {}
        for ev in evidence:
            aid, _, idx = ev.sentence_id.rpartition(":s")
            if aid and idx.isdigit():
                wanted[ev.sentence_id] = [f"{aid}:s{int(idx) - k}" for k in range(n, 0, -1)
                                          if int(idx) - k >= 0]
        ids = sorted({i for v in wanted.values() for i in v})
        if not ids:
            return {}
        got = self.store.sentences.get(ids=ids, include=["documents"])
        text = dict(zip(got["ids"], got["documents"]))
        return {sid: [text[i] for i in before if i in text] for sid, before in wanted.items()}

    def _headlines_first(self, ranked: list[Evidence], n: int = 3) -> list[Evidence]:
        """"What is the title of the article that...?": the headlines of the articles
        holding the best evidence, each scored as its article's best sentence."""
        best: dict[str, float] = {}
        for ev in ranked:
            if ev.article_id not in best:
                best[ev.article_id] = ev.score
                if len(best) == n:
                    break
        if not best:
            return ranked
        got = self.store.sentences.get(
            where={"$and": [{S.ARTICLE_ID: {"$in": list(best)}}, {S.SENTENCE_INDEX: 0}]},
            include=["documents", "metadatas"],
        )
        heads = []
        rows = [{"id": i, "text": d, "meta": dict(m)} for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        for row in self.store.visible_rows(rows):  # dup_group comes from the article record
            title = (row["meta"].get(S.TITLE) or "").strip()
            if title and row["text"].strip() == title:
                heads.append(evidence_from(row, best[row["meta"][S.ARTICLE_ID]], "headline"))
        heads.sort(key=lambda e: -e.score)
        keys = {(h.article_id, h.start) for h in heads}
        return heads + [ev for ev in ranked if (ev.article_id, ev.start) not in keys]

    def _speech_answer(self, question, resolved, parsed, lang, filters) -> Answer | None:  # type: ignore[no-untyped-def]
        phrase, topic = parsed
        who = speech.resolve_speaker(phrase, self.settings.prompts_dir / "glossary_en_fr.tsv")
        if who.is_empty():
            return None
        statements = statements_by(who, self.store, lexical=self.retriever.lexical)
        if filters and filters.active():
            statements = [s for s in statements if filters.accepts({"source": s.source, "outlet": s.outlet, "date_num": int((s.date or "0").replace("-", "")[:8].ljust(8, "0"))})]
        if not statements:
            t = templates(self.settings.prompts_dir, lang)
            return abstain(question, [], t)
        if topic:
            statements = self._on_topic(topic, statements)
        return compose_statements(
            question, statements, speaker=phrase, topic=topic, lang=lang,
            prompts_dir=self.settings.prompts_dir, max_citations=max(self.settings.max_citations, 12),
        )

    def _on_topic(self, topic: str, statements: list[Evidence]) -> list[Evidence]:
        """Keep the statements about the asked topic ("about Pyongyang's assurances")."""
        qv = self._embed_query(topic)
        # Sentence vectors were computed at ingestion: read them, don't re-embed.
        got = self.store.sentences.get(ids=[s.sentence_id for s in statements], include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        vecs = [np.asarray(by_id[s.sentence_id], dtype=np.float32) for s in statements]
        lexical = self.retriever.lexical
        scores = [float(np.dot(v, qv)) + 0.5 * lexical_overlap(topic, s.text, lexical) for v, s in zip(vecs, statements)]
        best = max(scores)
        keep = [s for s, sc in sorted(zip(statements, scores), key=lambda p: -p[1]) if sc >= best - 0.12][:4]
        # "Il a reconnu..." means nothing without the sentence that says who "il" is:
        # a kept continuation brings its attributed statement along.
        kept = {id(s) for s in keep}
        for i, st in enumerate(statements):
            if id(st) in kept and st.reason == "speech-continued":
                for prev in reversed(statements[:i]):
                    if prev.article_id == st.article_id and prev.reason == "speech":
                        if id(prev) not in kept:
                            keep.append(prev)
                            kept.add(id(prev))
                        break
        return keep
