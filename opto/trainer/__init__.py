"""Training loops over data: ``train(model, train_set, guide, ...)`` with minibatch, beam, priority
and Pareto search, LLM/exact/function guides, budgets, dry runs, run-store records and resume.

See docs/trainer.md.
"""

from opto.trainer.algorithms import ALGORITHMS, Algorithm, BeamSearch, Minibatch, ParetoSearch, PrioritySearch
from opto.trainer.budget import TrainBudget
from opto.trainer.dataset import Dataset, Example
from opto.trainer.guides import ExactMatch, Guide, Judgement, LLMJudge, Verdict, as_guide, exact_match
from opto.trainer.loop import train
from opto.trainer.plan import Plan
from opto.trainer.result import TrainResult

__all__ = ["ALGORITHMS", "Algorithm", "BeamSearch", "Dataset", "ExactMatch", "Example", "Guide", "Judgement",
           "LLMJudge", "Minibatch", "ParetoSearch", "Plan", "PrioritySearch", "TrainBudget", "TrainResult",
           "Verdict", "as_guide", "exact_match", "train"]
