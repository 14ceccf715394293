"""Whether a question is written in English: the articles are, so only English is answered.

It runs on every question, so it is a few set look-ups, no model: the share of letters outside
the Latin script (Cyrillic, Arabic, Chinese...), then, for Latin text, common function words of
English against those of Spanish, French, German, Italian and Portuguese. A library was
measured first: py3langid takes about 1 s to import and warm, and pycld2 (3 ms) refused two of
the project's 2,822 English questions ("Who wrote Hamlet?") while missing 8 of 53 others, where
this refuses none and misses none (tests/test_language.py).

The rule leans to English: a question of fewer than three words in the Latin script ("Raqqa?",
"SDF?", a name) is always English, and a Latin question is refused only when at least two
foreign function words outnumber its English ones, so names such as "Juan de la Cruz", "Le
Monde" or "Al-Assad" inside an English question never refuse it.
"""

from __future__ import annotations

import re

NOT_ENGLISH = "I can read questions in English; these articles are in English."
REFUSAL = "not_english"  # ``Answer.refusal`` for such a question

MIN_WORDS = 3  # a shorter Latin question is a name or a keyword: never refused
MIN_FOREIGN_WORDS = 2
MIN_OTHER_SCRIPT_LETTERS = 2

_WORDS = re.compile(r"[^\W\d_]+")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# English function words (question words, auxiliaries, prepositions, pronouns).
_ENGLISH = _set(
    "the a an of in on at to for by with from about into over after before between during"
    " under against than as and or but not no that this these those there it its he she they"
    " his her their them him we our you your i my what who whom whose which when where why how"
    " did does do is are was were be been being has have had will would can could should may"
    " might must shall say says said tell told many much any some other more most"
)

# Function words of each language that are not English words, and rare in English names
# ("de", "la", "el", "al", "da", "di" and "le" are kept: two of them plus no English is foreign).
_FOREIGN: dict[str, frozenset[str]] = {
    "es": _set(
        "qué que quién quien quiénes cuándo cuando dónde donde cómo cuál cuáles cuánto cuánta"
        " cuántos cuántas cuantos cuantas el los las del la de al es está están fue fueron"
        " dijo dice han ha hay sido según sobre entre para por una uno unos unas y en con"
        " su sus se lo muy más también pero porque sin hasta desde este esta estos"
    ),
    "fr": _set(
        "qu que quoi qui quand où comment combien pourquoi quel quelle quels quelles le les"
        " des du de la un une est sont ont été dit il elle ils elles sur dans avec pour par au"
        " aux ce cette ces et leur leurs se ne pas mais propos après selon était"
    ),
    "de": _set(
        "wer wie wo wann warum wieso weshalb welche welcher welches wieviel wieviele der das"
        " dem des ist sind hat haben wurde wurden sagte gesagt über und mit nicht ein eine"
        " einen einer eines im zu von vom zum zur bei nach auf für sich auch noch dass heißt"
        " seit wird werden"
    ),
    "it": _set(
        "che chi cosa quando dove quanti quante quanto perché quale quali il lo gli della delle"
        " dello dei degli del nel nella è ha hanno detto sono stato stata stati una uno di per"
        " con su sulla sul tra fra anche non ed si dopo secondo"
    ),
    "pt": _set(
        "que quem quando onde como quantos quantas quanto qual quais porque os das dos da na"
        " nos nas um uma é foi foram disse são está estão em com para pelo pela sobre entre"
        " não ao aos seu sua se depois segundo"
    ),
}

# Question words that open a question in those languages and no English one ("Che", "Cosa",
# "Dove" and "Como" are left out: "Che Guevara", "Cosa Nostra", "Dove soap", "Lake Como").
_OPENERS = _set(
    "qué quién quiénes cuándo dónde cómo cuál cuáles cuánto cuántos cuántas cuantos cuantas"
    " quien cuando donde quoi quand où comment combien pourquoi quel quelle quels quelles"
    " wer wie wann warum wieso welche welcher welches wieviel wieviele quanti quante quanto"
    " perché quale quali quem onde quantos quantas qual quais"
)


def question_language(text: str) -> str | None:
    """The language ``text`` is written in when it is clearly not English, else None.

    The result is a guess of an ISO 639-1 code ("es", "ru", "zh"...) or "und" for another
    script; None means English, or too short to tell (and so answered).
    """
    latin, other = 0, 0
    scripts: dict[str, int] = {}
    for char in text:
        if not char.isalpha():
            continue
        script = _script(char)
        if script == "latin":
            latin += 1
        else:
            other += 1
            scripts[script] = scripts.get(script, 0) + 1
    written = _WORDS.findall(text)
    words = [word.lower() for word in written]
    english = sum(word in _ENGLISH for word in words)
    if other >= MIN_OTHER_SCRIPT_LETTERS and (other > latin or english == 0):
        return max(scripts, key=scripts.__getitem__)  # "Что сказал Mustafa Bali?" too
    if len(words) < MIN_WORDS:
        return None
    spanish_marks = 2 * (("¿" in text) + ("¡" in text))
    # A capitalised function word past the first is a name's ("Los Angeles", "Le Monde").
    shouting = not any(char.islower() for char in text)
    plain = [
        w
        for n, (w, as_written) in enumerate(zip(words, written, strict=True))
        if n == 0 or shouting or not as_written[0].isupper()
    ]
    counts = {
        lang: sum(word in vocabulary for word in plain) for lang, vocabulary in _FOREIGN.items()
    }
    counts["es"] += spanish_marks
    lang, foreign = max(counts.items(), key=lambda item: item[1])
    if foreign >= MIN_FOREIGN_WORDS and foreign > english:
        return lang
    if english == 0 and words[0] in _OPENERS:  # "Quantos civis deixaram Raqqa?"
        return next((lang for lang, words_of in _FOREIGN.items() if words[0] in words_of), "und")
    return None


def is_english(text: str) -> bool:
    """Whether ``text`` is answered: English, or too short to tell."""
    return question_language(text) is None


def _script(char: str) -> str:
    """ "latin" for Latin letters (accented ones too), else a short name of the script."""
    code = ord(char)
    if code < 0x250 or 0x1E00 <= code < 0x1F00:
        return "latin"
    if 0x400 <= code < 0x530:
        return "ru"
    if 0x600 <= code < 0x700 or 0x750 <= code < 0x780 or 0xFB50 <= code < 0xFF00:
        return "ar"
    if 0x4E00 <= code < 0xA000 or 0x3400 <= code < 0x4DC0:
        return "zh"
    if 0x3040 <= code < 0x3100:
        return "ja"
    if 0xAC00 <= code < 0xD7B0 or 0x1100 <= code < 0x1200:
        return "ko"
    if 0x370 <= code < 0x400:
        return "el"
    if 0x590 <= code < 0x600:
        return "he"
    if 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:  # full-width Latin letters
        return "latin"
    if 0xFF00 <= code < 0xFFF0:
        return "zh"
    return "und"
