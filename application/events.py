"""Aliases of the domain's event classes, kept for the audit until it names the classes itself."""

from __future__ import annotations

from typing import Any

from domain.accounts import TokenAccount
from domain.generations import Generation
from domain.queue import GenerationQueue

ACCOUNT_OPENED: type[Any] = TokenAccount.AccountOpened
TOKENS_GRANTED: type[Any] = TokenAccount.TokensGranted
TOKENS_RESERVED: type[Any] = TokenAccount.TokensReserved
TOKENS_CAPTURED: type[Any] = TokenAccount.TokensCaptured
TOKENS_RELEASED: type[Any] = TokenAccount.TokensReleased
ACCOUNT_DISABLED: type[Any] = TokenAccount.AccountDisabled
ACCOUNT_ENABLED: type[Any] = TokenAccount.AccountEnabled

GENERATION_REQUESTED: type[Any] = Generation.GenerationRequested
IMAGE_LINKED: type[Any] = Generation.ImageLinked
GENERATION_STARTED: type[Any] = Generation.GenerationStarted
GENERATION_COMPLETED: type[Any] = Generation.GenerationCompleted
GENERATION_FAILED: type[Any] = Generation.GenerationFailed
GENERATION_CANCELLED: type[Any] = Generation.GenerationCancelled
GENERATION_EXPIRED: type[Any] = Generation.GenerationExpired

QUEUE_OPENED: type[Any] = GenerationQueue.QueueOpened
GENERATION_QUEUED: type[Any] = GenerationQueue.GenerationQueued
GENERATION_LEFT_QUEUE: type[Any] = GenerationQueue.GenerationLeftQueue
