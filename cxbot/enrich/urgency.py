"""Urgency 0..3 from the taxonomy's [urgency.*] cues and the final sentiment label.

3  legal threat, safety, fraud or account takeover (someone should look today)
2  about to leave, repeated contact ("third time I ask"), asks for a manager, "urgent"
1  a problem report -- and every signal labelled negative, even without a cue, because a
   complaint nobody answers is how level 1 becomes level 2
0  nothing to act on
"""

from __future__ import annotations


def urgency_level(cue_level: int, sentiment_label: str) -> int:
    """`cue_level`: Taxonomy.match(...)[1], the highest [urgency.*] level found in the text."""
    if sentiment_label == "negative":
        return max(cue_level, 1)
    return cue_level
