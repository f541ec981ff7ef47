// What a deploy/ must be before it is written: each refusal names the file and the line.
import { describe, expect, it } from 'vitest';
import { Failure, envName } from '../../src/domain/index.js';
import { loadTemplates } from '../../src/git/templates.js';
import { renderBranchFiles, templateVars } from '../../src/git/manifests.js';
import {
  DEPLOY_LIMITS,
  manifestProblems,
  validateDeploy,
} from '../../src/git/validate-manifests.js';

const HOST = 'whoami.pr-3.example.test';
const at = (problems: { path: string; line: number; message: string }[]) =>
  problems.map((p) => `${p.path}:${p.line}: ${p.message}`);

describe('deploy/ validation', () => {
  it('the default templates, rendered, pass', async () => {
    const files = renderBranchFiles(
      await loadTemplates(),
      templateVars(
        { name: envName('pr-3'), provider: 'kind' },
        { baseDomain: 'example.test', ingressClass: 'traefik' },
      ),
    );
    expect(manifestProblems(files, HOST)).toEqual([]);
    // The same chart rendered for another environment is refused here: its host is not ours, in
    // values.yaml and where the template reads it ({{ .Values.ingress.host }}).
    expect(at(manifestProblems(files, 'whoami.other.example.test'))).toEqual([
      `deploy/templates/ingress.yaml:11: the Ingress's spec.rules[].host is "${HOST}"; an environment serves only its own host "whoami.other.example.test"`,
      `deploy/values.yaml:10: ingress.host is "${HOST}"; an environment serves only its own host "whoami.other.example.test"`,
    ]);
  });

  it('plain manifests: one object per document, with apiVersion, kind and a name', () => {
    const content = [
      'apiVersion: v1', // 1
      'kind: ConfigMap',
      'metadata: { name: a }',
      '---',
      '- apiVersion: v1', // 5
      '  kind: ConfigMap',
      '---',
      'kind: Service', // 8
      'metadata: { name: s }',
      '---',
      'apiVersion: v1', // 11
      'kind: List',
      'items: []',
      '---',
      'apiVersion: v1', // 15
      'kind: Secret',
      'metadata: {}',
      '---',
      '',
    ].join('\n');
    expect(at(manifestProblems([{ path: 'deploy/all.yaml', content }], HOST))).toEqual([
      'deploy/all.yaml:5: a document holds a list; one Kubernetes object per document (separate them with ---)',
      'deploy/all.yaml:8: the object has no apiVersion; one Kubernetes object per document',
      'deploy/all.yaml:11: a List holds several objects; one Kubernetes object per document',
      'deploy/all.yaml:15: the Secret has no metadata.name',
    ]);
  });

  it("a chart's templates keep their line numbers with actions spanning lines", () => {
    const files = [
      { path: 'deploy/Chart.yaml', content: 'apiVersion: v2\nname: c\n' },
      { path: 'deploy/values.yaml', content: `enabled: true\nhost: ${HOST}\n` },
      {
        path: 'deploy/templates/web.yaml',
        content: [
          '{{- if .Values.enabled }}',
          '{{- /* a comment',
          '   over lines */ -}}',
          'apiVersion: networking.k8s.io/v1',
          'kind: Ingress',
          'metadata:',
          '  name: {{ .Release.Name }}-web',
          '  labels: {{- include "labels" . | nindent 4 }}',
          'spec:',
          '  rules:',
          '    - host: {{ .Values.host }}',
          '    - host: other.example.test', // 12
          '  tls:',
          '    - hosts: [ "{{ .Values.host }}", evil.example.test ]', // 14
          '{{- end }}',
          '',
        ].join('\n'),
      },
    ];
    expect(at(manifestProblems(files, HOST))).toEqual([
      'deploy/Chart.yaml:1: Chart.yaml has no version',
      `deploy/templates/web.yaml:12: the Ingress's spec.rules[].host is "other.example.test"; an environment serves only its own host "${HOST}"`,
      `deploy/templates/web.yaml:14: the Ingress's spec.tls[].hosts[] is "evil.example.test"; an environment serves only its own host "${HOST}"`,
    ]);
  });

  it('a route to another host, a file that does not parse, and too much are refused', () => {
    const route = {
      path: 'deploy/route.yaml',
      content:
        'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  hostnames: [shop.example.test]\n',
    };
    const broken = { path: 'deploy/broken.yml', content: 'a: [1,\nb: 2\n' };
    const notYaml = { path: 'deploy/README.md', content: '# not checked: [' };
    const problems = at(manifestProblems([route, broken, notYaml], HOST));
    expect(problems[0]).toMatch(/^deploy\/broken\.yml:\d+: YAML does not parse: /);
    expect(problems.at(-1)).toBe(
      `deploy/route.yaml:5: the HTTPRoute's spec.hostnames[] is "shop.example.test"; an environment serves only its own host "${HOST}"`,
    );
    const many = Array.from({ length: DEPLOY_LIMITS.files + 1 }, (_, i) => ({
      path: `deploy/f${i}.txt`,
      content: 'x',
    }));
    expect(at(manifestProblems(many, HOST))).toEqual([
      `deploy:1: ${DEPLOY_LIMITS.files + 1} files, ${DEPLOY_LIMITS.files + 1} bytes: more than a deploy takes (${DEPLOY_LIMITS.files} files, ${DEPLOY_LIMITS.bytes} bytes)`,
    ]);
  });

  it('validateDeploy refuses as invalid input, naming every problem', () => {
    const bad = { path: 'deploy/a.yaml', content: 'kind: ConfigMap\n' };
    let error: unknown;
    try {
      validateDeploy([bad], HOST);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Failure);
    expect(error).toMatchObject({
      code: 'invalid_input',
      message: [
        'deploy/ is not deployed: 2 problems; the previous deployment stays',
        'deploy/a.yaml:1: the object has no apiVersion; one Kubernetes object per document',
        'deploy/a.yaml:1: the ConfigMap has no metadata.name',
      ].join('\n'),
    });
  });

  it('an unknown placeholder is refused with its file and line', () => {
    expect(() =>
      renderBranchFiles([{ path: 'deploy/x.yaml', content: 'a: 1\nb: ${KINDLER_NOPE}\n' }], {
        KINDLER_ENV: 'dev',
      }),
    ).toThrow('deploy/x.yaml:2: ${KINDLER_NOPE} is not defined; known: KINDLER_ENV');
  });
});
