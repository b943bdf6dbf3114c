"""trace-opt's import path: ``from opto.optimizers.optoprimemulti import OptoPrimeMulti`` keeps working."""

from opto.optimizers.optoprime_multi import OptoPrimeMulti

__all__ = ["OptoPrimeMulti"]
