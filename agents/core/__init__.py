"""The agent runtime, pure Python: no Django import anywhere below this package (a test asserts it).

Everything comes in as arguments: spec, policy, toolbox (venue + order desk), stop check,
recorder, clock, alert, approval sink, exposure provider.
"""
