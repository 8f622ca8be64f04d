/** Kernel effect handlers: ask_user, answer_user, wait_event, wait_until (runtime-model.md §1.4). */
import type { EffectHandler } from "../spec.ts";
import type { Json } from "../types.ts";
import { isoUtc, nowIso, parseIso } from "../../util/time.ts";
import { eventWaitKey, scopeIdFor } from "./events.ts";
import { isObject } from "./json.ts";
import { makeWait } from "./waits.ts";

const str = (v: Json | undefined): string | null => (typeof v === "string" && v !== "" ? v : null);
const choicesOf = (
  v: Json | undefined,
): string[] | null => (Array.isArray(v) ? v.map((c) => String(c)) : null);
const resumeTo = (v: Json | undefined): string | null => str(v);

export const askUserHandler: EffectHandler = ({ run, effect, node_id }) => {
  const p = effect.payload;
  const prompt = str(p.prompt);
  if (prompt === null) return Promise.resolve({ status: "failed", error: "ask_user requires a 'prompt'" });
  return Promise.resolve({
    status: "waiting",
    wait: makeWait({
      reason: "user",
      wait_key: str(p.wait_key) ?? `user:${run.run_id}:${run.current_node ?? node_id}`,
      resume_to_node: resumeTo(p.resume_to_node),
      prompt,
      choices: choicesOf(p.choices),
      allow_free_text: p.allow_free_text !== false,
    }),
  });
};

const LEVELS: Record<string, string> = {
  message: "message",
  info: "message",
  warning: "warning",
  warn: "warning",
  error: "error",
};

export const answerUserHandler: EffectHandler = ({ effect }) => {
  const p = effect.payload;
  const message = [p.message, p.text, p.content].find((v) => typeof v === "string");
  if (typeof message !== "string") {
    return Promise.resolve({ status: "failed", error: "answer_user requires a 'message'" });
  }
  const level = LEVELS[typeof p.level === "string" ? p.level.toLowerCase() : "message"] ?? "message";
  return Promise.resolve({ status: "completed", result: { message, level } });
};

export const waitEventHandler: EffectHandler = ({ run, effect }) => {
  const p = effect.payload;
  let waitKey = str(p.wait_key);
  if (waitKey === null) {
    const name = str(p.name) ?? str(p.event_name);
    if (name === null) {
      return Promise.resolve({ status: "failed", error: "wait_event requires 'wait_key' or 'name'" });
    }
    const scope = str(p.scope) ?? "session";
    waitKey = eventWaitKey(scope, scopeIdFor(run, scope, p.session_id), name);
  }
  return Promise.resolve({
    status: "waiting",
    wait: makeWait({
      reason: "event",
      wait_key: waitKey,
      resume_to_node: resumeTo(p.resume_to_node),
      prompt: str(p.prompt),
      choices: choicesOf(p.choices),
      allow_free_text: (p.allow_free_text ?? p.allowFreeText) !== false,
      details: isObject(p.details) ? p.details : null,
    }),
  });
};

export const waitUntilHandler: EffectHandler = ({ effect }) => {
  const p = effect.payload;
  const raw = str(p.until);
  const ms = raw === null ? NaN : parseIso(raw);
  if (raw === null || Number.isNaN(ms)) {
    return Promise.resolve({
      status: "failed",
      error: `wait_until requires an ISO 'until' timestamp, got ${JSON.stringify(p.until ?? null)}`,
    });
  }
  const until = isoUtc(new Date(ms));
  if (until <= nowIso()) return Promise.resolve({ status: "completed", result: { until, ready: true } });
  return Promise.resolve({
    status: "waiting",
    wait: makeWait({ reason: "until", until, resume_to_node: resumeTo(p.resume_to_node) }),
  });
};
