import type { Project } from '../types.ts';

/** The project a page works on (kept in the URL by the page). */
export function ProjectSelect(props: {
  projects: Project[];
  value: string;
  onChange(project: string): void;
}) {
  return (
    <label>
      Project
      <select value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)}>
        <option value="" disabled>
          choose a project
        </option>
        {props.projects.map((project) => (
          <option key={project.id} value={project.id}>
            {project.id}
          </option>
        ))}
      </select>
    </label>
  );
}
