"""Use case A's words in English and Japanese: its event types, rules, measured values.

Neutral wording: a reading prompts a check with a clinical thermometer; it never diagnoses.
"""

from __future__ import annotations

#: Dismissal reasons only entrance alerts offer (after the generic ones in ``review.reasons``).
DISMISS_REASONS = (
    "measurement_disturbed",  # hot drink, sun, heater, glasses: the reading is not the body
    "clinical_check_normal",  # a clinical thermometer read normal
)

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "type.entrance.fever_suspected": ("Possible fever at the entrance", "入口で発熱の疑い"),
    "type.entrance.no_mask": ("No mask seen at the entrance", "入口でマスク未着用"),
    "reason.measurement_disturbed": ("Measurement disturbed (hot drink, sun, heater, glasses)", "測定の妨げ（温かい飲み物・日差し・暖房・眼鏡）"),
    "reason.clinical_check_normal": ("Clinical thermometer read normal", "医療用体温計で平熱を確認"),
    "rule.body_temperature_over_threshold": ("The estimated body temperature is at or above the threshold. Confirm with a clinical thermometer before deciding.", "推定体温がしきい値以上です。判断の前に医療用体温計で確認してください。"),
    "rule.body_surface_temperature_over_threshold": ("The measured temperature is above the threshold. Confirm with a clinical thermometer before deciding.", "測定温度がしきい値を超えています。判断の前に医療用体温計で確認してください。"),
    "rule.mask_not_detected": ("No mask was seen on this face over several frames.", "複数のフレームでこの顔にマスクが確認できませんでした。"),
    "value.core_c": ("Estimated body temperature (°C)", "推定体温（°C）"),
    "value.raw_c": ("Camera reading, raw (°C)", "カメラ測定値・補正前（°C）"),
    "value.corrected_c": ("Camera reading, corrected (°C)", "カメラ測定値・補正後（°C）"),
    "value.ambient_c": ("Room temperature (°C)", "室温（°C）"),
    "value.celsius": ("Temperature (°C)", "温度（°C）"),
    "value.fever_threshold_c": ("Fever threshold (°C)", "発熱のしきい値（°C）"),
    "value.blackbody_set_point_c": ("Reference blackbody set point (°C)", "基準黒体の設定温度（°C）"),
    "value.blackbody_measured_c": ("Reference blackbody measured (°C)", "基準黒体の測定値（°C）"),
    "value.blackbody_expected_c": ("Reference blackbody expected (°C)", "基準黒体の期待値（°C）"),
    "value.blackbody_drift_c": ("Camera drift from the blackbody (°C)", "黒体によるカメラのずれ（°C）"),
    "value.interocular_px": ("Distance between the eyes (pixels)", "目の間隔（ピクセル）"),
    "value.p_mask": ("Mask probability", "マスク着用の確率"),
    "value.mask_threshold": ("Mask probability threshold", "マスク判定のしきい値"),
    "value.frames": ("Frames measured", "測定フレーム数"),
    "value.face_track": ("Face (anonymous number on this camera)", "顔（このカメラでの匿名番号）"),
    "value.canthus_coupling": ("Inner eye corner to body temperature factor", "目頭温度から体温への係数"),
    "value.skin_emissivity": ("Skin emissivity", "皮膚の放射率"),
    "value.action": ("What to do", "対応"),
}
