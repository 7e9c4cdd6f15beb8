"""The chatbot experiment's pieces: the split, the models' wiring and the scorers, on small cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.dialogue import dialogue_pairs, topics
from rnncourse.data.pairs import PairVocabulary, encode_pairs, words
from rnncourse.experiments import ch08_applications_chatbot as chat
from rnncourse.models.seq2seq import masked_cross_entropy, teacher_forcing_batch

PAIRS = [
    ("how are you", "i am fine"),
    ("what is your name", "my name is bot"),
    ("do you like music", "i like music"),
    ("how old are you", "i am young"),
] * 3


@pytest.fixture(scope="module")
def split() -> tuple[chat.Pairs, chat.Pairs, chat.Pairs]:
    return chat.chat_split(0)


def test_the_split_is_random_within_every_topic_and_keeps_each_pair_once(split) -> None:
    train, val, test = split
    assert len(set(test) & set(train)) <= 0.02 * len(test)  # only pairs that two topics share
    for part in (train, val, test):
        assert len(set(part)) == len(part)
    # every topic with at least 10 short distinct pairs has some in the test and in the validation part
    for topic in topics():
        pairs = {
            p
            for p in dialogue_pairs(topic, skip_malformed=True)
            if max(len(words(p[0])), len(words(p[1]))) <= chat.MAX_WORDS
        }
        if len(pairs) >= 10:
            assert pairs & set(test) and pairs & set(val), topic
    assert chat.chat_split(0) == split and chat.chat_split(1) != split
    assert max(len(words(p)) for pair in train for p in pair) <= chat.MAX_WORDS
    with pytest.raises(ValueError, match="shares"):
        chat.chat_split(0, test_share=0.6, val_share=0.5)


def test_reply_only_empties_the_prompts() -> None:
    assert chat.reply_only(PAIRS[:2]) == [("", "i am fine"), ("", "my name is bot")]


def small_model(seed: int = 0, pairs: chat.Pairs = PAIRS) -> chat.ChatModel:
    target = PairVocabulary.from_texts([r for _, r in PAIRS], words, min_count=1)
    return chat.train_chat_model(pairs, pairs[:4], target, max_epochs=2, embed=8, hidden=8, seed=seed)


def test_pair_log_probs_are_minus_the_masked_cross_entropy() -> None:
    bot = small_model()
    log_p, lengths = chat.pair_log_probs(bot, PAIRS[:4])
    src, src_len, tgt, tgt_len = (
        torch.from_numpy(a) for a in encode_pairs(PAIRS[:4], bot.source, bot.target)
    )
    s, sl, tgt_in, (tgt_out, tl) = teacher_forcing_batch(src, src_len, tgt, tgt_len)
    with torch.no_grad():
        logits, _ = bot.model(s, sl, tgt_in)
        loss = float(masked_cross_entropy(logits, tgt_out, tl))
    assert lengths.tolist() == tgt_len.tolist() == [4, 5, 4, 4]  # words and <eos>
    assert -log_p.sum() / lengths.sum() == pytest.approx(loss, rel=1e-5)


def test_start_from_copies_every_weight_but_the_prompt_embedding() -> None:
    language_model = small_model(seed=1, pairs=chat.reply_only(PAIRS))
    bot_vocab = PairVocabulary.from_texts([p for p, _ in PAIRS], words, min_count=1)
    assert len(bot_vocab) != len(
        language_model.source
    )  # the prompts' words differ: its table cannot be copied
    target = language_model.target
    started = chat.train_chat_model(
        PAIRS, PAIRS[:4], target, max_epochs=1, embed=8, hidden=8, seed=2, start_from=language_model.model
    )
    fresh = chat.train_chat_model(PAIRS, PAIRS[:4], target, max_epochs=1, embed=8, hidden=8, seed=2)
    lm_weights = language_model.model.state_dict()
    # one epoch of Adam moves each weight by about lr * steps: the started model stays near the LM's
    for name, value in started.model.state_dict().items():
        if name.startswith("decoder."):
            near = (value - lm_weights[name]).abs().max()
            far = (fresh.model.state_dict()[name] - lm_weights[name]).abs().max()
            assert near < 0.05 and far > near, name


def test_greedy_and_sampled_replies_have_the_asked_shapes() -> None:
    bot = small_model()
    greedy = chat.greedy_replies(bot, ["how are you", "hello"], max_len=6)
    assert len(greedy) == 2 and all(len(r) <= 6 for r in greedy)
    sampled = chat.sampled_replies(
        bot, ["how are you", "hello", "x"], 4, 1.0, np.random.default_rng(0), max_len=6
    )
    assert [len(s) for s in sampled] == [4, 4, 4]
    again = chat.sampled_replies(
        bot, ["how are you", "hello", "x"], 4, 1.0, np.random.default_rng(0), max_len=6
    )
    assert sampled == again


def test_tfidf_cosines_and_the_two_retrieval_scorers() -> None:
    tfidf = chat.TfIdf(["the cat sat", "the dog ran", "a cat ran"])
    v = tfidf.vectors(["cat", "the cat sat", "zebra"])
    assert np.linalg.norm(v[0]) == pytest.approx(1.0) and np.linalg.norm(v[2]) == 0.0
    assert v[0] @ v[1] > 0 and v[0] @ tfidf.vectors(["dog"])[0] == 0.0
    train = [("hello there", "hi friend"), ("what about cats", "cats purr softly")]
    scores = chat.retrieval_scores(train, ["tell me about cats"], [["cats purr softly", "hi friend"]])
    assert set(scores) == {"cosine of prompt and reply", "cosine with the nearest prompt's reply"}
    nearest = scores["cosine with the nearest prompt's reply"]
    assert nearest.shape == (1, 2) and nearest[0, 0] == pytest.approx(1.0) and nearest[0, 1] == 0.0
    assert scores["cosine of prompt and reply"][0, 0] > scores["cosine of prompt and reply"][0, 1] == 0.0


def test_mmi_rerank_picks_the_candidate_the_language_model_finds_less_likely() -> None:
    bot = small_model()
    pool = [[["i", "am", "fine"], ["i", "like", "music"]]]
    log_p, lengths = chat.pair_log_probs(bot, [("how are you", "i am fine"), ("how are you", "i like music")])
    plain = chat.mmi_rerank(bot, bot, ["how are you"], pool, 0.0)
    assert plain == [pool[0][int(np.argmax(log_p / lengths))]]


def test_diversity_of_word_lists() -> None:
    d = chat.diversity([["hi"], ["hi"], ["hello", "there"]])
    assert d["top reply"] == "hi" and d["top reply share"] == pytest.approx(0.6667, abs=1e-4)
    assert d["distinct-1"] == pytest.approx(0.75) and d["distinct-2"] == pytest.approx(1.0)
