"""How the catalog grades its values: the sources that evidence tags name, how conflicts between sources are
decided, and the evidence that entries of both families share. The grades are those of :class:`~.spec.ModelSpec`'s
``evidence``; every entry carries its own beside its values (``evidence=``).

Sources (the tags are those of ``docs/FIDELITY.md`` and the catalog audit): AWS "Regional availability by
models" (D1), the Pixtral and 7B model cards (D2, D3), the text- and chat-completion parameter pages (D4, D5),
the API-compatibility page (D6), the other AWS model cards (D7), botocore's service model (D8), input
modalities from the cards (D9), the Converse feature table (D10); real traffic (R1 Pixtral ``us.`` profile,
R2 a ``prompt`` body on Large 2407); third-party data: LiteLLM's cost map (S1), models.dev (S2), pwshBedrock
(S3), AWS sample notebooks without outputs (S4), the AWS Price List via a third-party catalog (S5).

How conflicts are decided, once for every value:
* AWS text beats third-party data. Between two AWS texts, the parameter page (which documents the request
  validator's range) beats the model card (which describes the model).
* Where a card gives only a rounded "32K", "128K" or "16K" and no source gives an exact figure consistent with
  it, "K" is read as 1,000: the smaller reading, so a request that passes here passes on Bedrock.
* Between third-party figures with no AWS text, the smaller one, for the same reason.
The runtime's region check can be switched off (``RuntimeConfig.check_region``) where these data lag Bedrock.
"""

from __future__ import annotations

__all__ = ["NO_PROFILES", "PROFILES_D1", "REGIONS_D1"]

NO_PROFILES: dict[str, frozenset[str]] = {}  # Geo and Global "not supported" in every Region (D1, D7)
REGIONS_D1 = "[D~] Regional availability page (D1)"
PROFILES_D1 = "[D~] no Geo/Global profile in any Region (D1); crossRegionInference empty on the card (D7)"
