export declare const REQUIRED: string;
export declare function nodeProblem(version: string, required?: string): string | null;
export declare function requireNode(): void;
