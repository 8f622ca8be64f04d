/** What operator tooling offers under a config: for `/tooling/status` and the discovery document. */
import type { Config } from "../config/config.ts";

export const TOOLING_DISABLED_DETAIL =
  "Operator tooling is disabled (set ABSTRACTGATEWAY_ENABLE_TOOLING=1 and run with the serve:tooling permission set)";

export interface ToolingStatus {
  enabled: boolean;
  features: { files: boolean; processes: boolean; reports: boolean };
}

type ToolingConfig = Pick<Config, "enableTooling" | "workspaceDir" | "workspaceMounts" | "toolingCommands">;

export function toolingStatus(config: ToolingConfig): ToolingStatus {
  const on = config.enableTooling;
  return {
    enabled: on,
    features: {
      files: on && (config.workspaceDir !== undefined || Object.keys(config.workspaceMounts).length > 0),
      processes: on && config.toolingCommands !== undefined,
      reports: on,
    },
  };
}
